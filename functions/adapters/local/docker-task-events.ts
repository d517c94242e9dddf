import type Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import type { TaskStateChangeEvent } from '#core/task-state-change.js';
import { DockerEventStream } from './docker-event-stream.js';

/** Docker container events that change a preview task's state, as ECS reports them. */
const watchedActions = new Set(['start', 'die', 'oom', 'health_status: healthy', 'health_status: unhealthy']);
/** Events of one preview that arrive together (a task's containers stopping) become one. */
const settleMs = 50;
const managed = 'preview.managed=true';

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
 * EventBridge invokes in AWS. When the service starts and when the engine comes back after a
 * restart, every preview task of `owner` is reported once, so the service learns what happened to
 * them while it was not listening (an app that stopped while the service was down is recovered
 * now, not after its health checks have failed).
 */
export async function startDockerTaskEvents(
  docker: Docker,
  deliver: (event: TaskStateChangeEvent) => Promise<void>,
  owner?: string,
): Promise<{ stop(): Promise<void> }> {
  const pending = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();

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

  const events = new DockerEventStream(docker, {
    filters: { type: ['container'], label: [managed] },
    onEvent: (event) => {
      const labels = event.Actor?.Attributes ?? {};
      const previewId = labels['preview.id'];
      if (!previewId || !event.Action || !watchedActions.has(event.Action)) return;
      schedule(previewId, labels['preview.task'] ?? 'unknown', event.Action);
    },
    onConnected: async () => {
      const label = owner ? [managed, `preview.owner=${owner}`] : [managed];
      const containers = await docker.listContainers({ all: true, filters: { label } });
      for (const container of containers) {
        const previewId = container.Labels['preview.id'];
        if (!previewId) continue;
        const action = container.State === 'running' ? 'start' : 'die';
        schedule(previewId, container.Labels['preview.task'] ?? 'unknown', action);
      }
    },
    onError: (error) => console.error('Docker event stream:', (error as Error).message ?? error),
  });
  await events.start();

  return {
    async stop() {
      await events.stop();
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
