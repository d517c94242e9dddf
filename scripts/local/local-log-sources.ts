import type { LogSourceResolver, TaskOrigin } from '../../functions/core/log-ports.js';

/**
 * The local runtime's table of tasks: whoever emits a task's lines (the Docker log follower, the
 * process runner's output) says first whose task it is, as ECS knows in AWS.
 */
export class LocalLogSources implements LogSourceResolver {
  private readonly tasks = new Map<string, TaskOrigin>();

  register(taskId: string, origin: TaskOrigin): void {
    this.tasks.set(taskId, origin);
  }

  async taskOrigin(taskId: string): Promise<TaskOrigin | undefined> {
    return this.tasks.get(taskId);
  }
}
