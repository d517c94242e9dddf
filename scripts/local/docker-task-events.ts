import type Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import type { TaskStateChangeEvent } from '../../functions/handlers/events/task-state-change.js';

/** Docker container events that change a preview task's state, as ECS reports them. */
const watchedActions = new Set(['start', 'die', 'oom', 'health_status: healthy', 'health_status: unhealthy']);
/** Events of one preview that arrive together (a task's containers stopping) become one. */
const settleMs = 50;

interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
}

function taskStateChange(previewId: string, taskId: string, action: string): TaskStateChangeEvent {
  const taskArn = `arn:aws:ecs:local:000000000000:task/preview-local/${taskId}`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '000000000000',
    time: new Date().toISOString(),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [taskArn],
    detail: {
      clusterArn: 'arn:aws:ecs:local:000000000000:cluster/preview-local',
      taskArn,
      lastStatus: action === 'die' || action === 'oom' ? 'STOPPED' : 'RUNNING',
      startedBy: previewId,
    },
  };
}

/**
 * Turns Docker's container events into ECS "Task State Change" events for the same handler that
 * EventBridge invokes in AWS.
 */
export async function startDockerTaskEvents(
  docker: Docker,
  deliver: (event: TaskStateChangeEvent) => Promise<void>,
): Promise<{ stop(): Promise<void> }> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], label: ['preview.managed=true'] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const pending = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let buffered = '';

  const schedule = (previewId: string, taskId: string, action: string) => {
    clearTimeout(pending.get(previewId));
    pending.set(
      previewId,
      setTimeout(() => {
        pending.delete(previewId);
        const delivery = deliver(taskStateChange(previewId, taskId, action))
          .catch((error: unknown) => console.error(`task state change of ${previewId} failed:`, error))
          .finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      }, settleMs),
    );
  };

  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line) as DockerEvent;
      const labels = event.Actor?.Attributes ?? {};
      const previewId = labels['preview.id'];
      if (!previewId || !event.Action || !watchedActions.has(event.Action)) continue;
      schedule(previewId, labels['preview.task'] ?? 'unknown', event.Action);
    }
  });
  stream.on('error', (error) => console.error('Docker event stream failed:', error));

  return {
    async stop() {
      stream.destroy();
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
