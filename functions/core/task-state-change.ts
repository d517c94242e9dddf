/**
 * A preview task's state change, in the shape EventBridge delivers ECS's "Task State Change": the
 * event the task-state handler takes, and what the local Docker watcher builds from Docker's events.
 * `detail.startedBy` names the preview; the runtime's own description of the task is the truth.
 */
export interface TaskStateChangeEvent {
  readonly version: string;
  readonly id: string;
  readonly 'detail-type': 'ECS Task State Change';
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Readonly<Record<string, unknown>>;
}
