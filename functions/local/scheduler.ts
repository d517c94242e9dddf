import type { ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/** A schedule as EventBridge runs it: a handler invoked with a "Scheduled Event" at a fixed rate. */
export interface Schedule {
  readonly name: string;
  readonly everySeconds: number;
  readonly invoke: () => Promise<{ handler: (event: ScheduledEvent) => Promise<unknown> }>;
}

function scheduledEvent(name: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [`arn:aws:events:local:000000000000:rule/${name}`],
    detail: {},
  };
}

/** Runs each schedule at its rate; a run never overlaps the previous one of the same schedule. */
export function startSchedules(schedules: readonly Schedule[]): { stop(): Promise<void> } {
  const running = new Map<string, Promise<unknown>>();
  const timers = schedules.map((schedule) =>
    setInterval(() => {
      if (running.has(schedule.name)) return;
      const run = schedule
        .invoke()
        .then(({ handler }) => handler(scheduledEvent(schedule.name)))
        .catch((error: unknown) => console.error(`schedule ${schedule.name} failed:`, error))
        .finally(() => running.delete(schedule.name));
      running.set(schedule.name, run);
    }, schedule.everySeconds * 1000),
  );
  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}
