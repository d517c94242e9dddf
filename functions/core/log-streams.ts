/**
 * Names of log streams. A task's containers log to `preview/<container>/<task id>` (the awslogs
 * driver's `<prefix>/<container>/<task id>`, with the prefix `preview`); an image build logs to
 * `build/<preview id>`.
 */
export type LogStreamOrigin =
  | { readonly kind: 'task'; readonly container: string; readonly taskId: string }
  | { readonly kind: 'build'; readonly container: 'build'; readonly previewId: string };

/** The awslogs driver's stream prefix of every preview container. */
export const taskLogStreamPrefix = 'preview';

export function taskLogStream(container: string, taskId: string): string {
  return `${taskLogStreamPrefix}/${container}/${taskId}`;
}

export function buildLogStream(previewId: string): string {
  return `build/${previewId}`;
}

export function parseLogStream(name: string): LogStreamOrigin | undefined {
  const task = new RegExp(String.raw`^${taskLogStreamPrefix}/([\w-]+)/([\w.-]+)$`).exec(name);
  if (task) return { kind: 'task', container: task[1] as string, taskId: task[2] as string };
  const build = /^build\/([\w-]+)$/.exec(name);
  return build ? { kind: 'build', container: 'build', previewId: build[1] as string } : undefined;
}

/** The task id at the end of an ECS task ARN (`arn:aws:ecs:…:task/<cluster>/<id>`), or the id itself. */
export function taskIdOf(taskArnOrId: string): string {
  return taskArnOrId.slice(taskArnOrId.lastIndexOf('/') + 1);
}
