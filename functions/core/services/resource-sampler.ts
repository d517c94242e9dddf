import type { Clock } from '../clock.js';
import { isServing } from '../lifecycle.js';
import type { LiveNotifier } from '../log-ports.js';
import type { MetricsStore, PreviewStore } from '../ports.js';
import type { TaskRunner } from '../task-runner.js';

/** Reads the resource use of every serving preview and keeps it as a sample. */
export class ResourceSampler {
  constructor(
    private readonly deps: {
      readonly previews: PreviewStore;
      readonly runner: TaskRunner;
      readonly metrics: MetricsStore;
      readonly clock: Clock;
      /** Pushes each sample to the preview's live stream as a `metric` message. */
      readonly notifier?: LiveNotifier;
    },
  ) {}

  /** Returns how many previews were sampled. */
  async sampleAll(): Promise<number> {
    const serving = (await this.deps.previews.listLive()).filter((p) => isServing(p.status));
    const sampled = await Promise.all(
      serving.map(async (preview) => {
        const stats = await this.deps.runner.stats(preview.previewId).catch(() => undefined);
        if (!stats) return false;
        const sample = { at: this.deps.clock.now().toISOString(), ...stats };
        await this.deps.metrics.recordResources(preview.previewId, sample);
        await this.deps.notifier?.resourcesSampled(preview.previewId, sample);
        return true;
      }),
    );
    return sampled.filter(Boolean).length;
  }
}
