import { DescribeTasksCommand, ListTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { LogScope, LogSourceResolver, RedactionLists, TaskOrigin } from '#core/log-ports.js';
import { taskIdOf } from '#core/log-streams.js';
import { startedBy } from './ecs-task-runner.js';

/**
 * Which preview an ECS task belongs to, from the task itself (its `startedBy`: RunTask sets it to the
 * preview id), and the secrets it was given, from the preview's redaction list (written before the
 * task ran). A task never changes, so each is asked once per process.
 */
export class EcsLogSources implements LogSourceResolver {
  private readonly origins = new Map<string, Promise<TaskOrigin | undefined>>();

  constructor(
    private readonly client: ECSClient,
    private readonly cluster: string,
    readonly redactions: RedactionLists,
  ) {}

  taskOrigin(taskId: string): Promise<TaskOrigin | undefined> {
    let origin = this.origins.get(taskId);
    if (!origin) {
      origin = this.describe(taskId);
      // A failed lookup is asked again next time; a task that is not there stays unknown.
      origin.catch(() => this.origins.delete(taskId));
      this.origins.set(taskId, origin);
    }
    return origin;
  }

  /**
   * The ids of a preview's tasks: the recorded one, and those ECS still lists (running ones, and
   * stopped ones for about an hour after they stop).
   */
  async taskIds(scope: LogScope): Promise<string[]> {
    const listed = await Promise.all(
      (['RUNNING', 'STOPPED'] as const).map(async (desiredStatus) => {
        const { taskArns = [] } = await this.client.send(
          new ListTasksCommand({
            cluster: this.cluster,
            startedBy: startedBy(scope.previewId),
            desiredStatus,
          }),
        );
        return taskArns;
      }),
    );
    return [...new Set([...(scope.taskId ? [scope.taskId] : []), ...listed.flat()].map(taskIdOf))];
  }

  private async describe(taskId: string): Promise<TaskOrigin | undefined> {
    const { tasks = [] } = await this.client.send(
      new DescribeTasksCommand({ cluster: this.cluster, tasks: [taskId] }),
    );
    const task = tasks[0];
    const previewId = task?.startedBy;
    if (!task || !previewId) return undefined;
    return { previewId, secrets: await this.redactions.secrets(previewId) };
  }
}
