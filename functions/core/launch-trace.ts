import type { Clock } from './clock.js';

/**
 * One step of the service's own work during a launch (a record write, an audit event, the image
 * lookup, a container start, a wait), beside the launch steps the spec names.
 */
export interface ServiceStep {
  readonly kind: 'service';
  /** What was done, e.g. `record.running`, `image.lookup`, `task.wait.database`. */
  readonly step: string;
  readonly startedAt: string;
  readonly endedAt: string;
}

/** Where a launch's code says what it is doing; a runtime that keeps no trace is given `untraced`. */
export interface TraceRecorder {
  /** Runs `work` as the step `step` and records how long it took, whether it succeeded or not. */
  span<T>(step: string, work: () => Promise<T>): Promise<T>;
  /** Records a step measured elsewhere (e.g. the wait between the launch request and its launcher). */
  add(step: string, startedAt: Date, endedAt: Date): void;
}

export const untraced: TraceRecorder = {
  span: (_step, work) => work(),
  add: () => undefined,
};

/** Most steps a trace keeps: a launch that loops (a takeover, a recovery) stays bounded. */
const maxSteps = 200;

/** The steps of one launch, in the order they started. */
export class LaunchTrace implements TraceRecorder {
  private readonly recorded: ServiceStep[] = [];

  constructor(private readonly clock: Clock) {}

  async span<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = this.clock.now();
    try {
      return await work();
    } finally {
      this.add(step, started, this.clock.now());
    }
  }

  add(step: string, startedAt: Date, endedAt: Date): void {
    if (this.recorded.length >= maxSteps) return;
    this.recorded.push({
      kind: 'service',
      step,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
    });
  }

  steps(): readonly ServiceStep[] {
    return [...this.recorded].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }
}
