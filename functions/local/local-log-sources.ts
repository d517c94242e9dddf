import type { LogSourceResolver, TaskOrigin } from '#core/log-ports.js';

/**
 * The local runtime's table of tasks: whoever emits a task's lines (the Docker log follower, the
 * process runner's output) says first whose task it is, as ECS knows in AWS.
 */
export class LocalLogSources implements LogSourceResolver {
  private readonly tasks = new Map<string, TaskOrigin>();

  /**
   * Each container of a task registers it with the secrets its own environment holds (the app
   * knows the database password, the loopback bridge knows none): the task's are all of them.
   */
  register(taskId: string, origin: TaskOrigin): void {
    const known = this.tasks.get(taskId);
    const secrets =
      known?.previewId === origin.previewId ? [...known.secrets, ...origin.secrets] : origin.secrets;
    this.tasks.set(taskId, { ...origin, secrets: [...new Set(secrets)] });
  }

  async taskOrigin(taskId: string): Promise<TaskOrigin | undefined> {
    return this.tasks.get(taskId);
  }
}
