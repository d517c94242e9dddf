import type { Clock } from '../clock.js';
import type { MetricsStore, PreviewStore } from '../ports.js';
import type { TaskRunner } from '../task-runner.js';

const servingStatuses = new Set(['running', 'healthy', 'degraded', 'unhealthy']);

/** Reads the resource use of every serving preview and keeps it as a sample. */
export class ResourceSampler {
  constructor(
    private readonly deps: {
      readonly previews: PreviewStore;
      readonly runner: TaskRunner;
      readonly metrics: MetricsStore;
      readonly clock: Clock;
    },
  ) {}

  /** Returns how many previews were sampled. */
  async sampleAll(): Promise<number> {
    const serving = (await this.deps.previews.listLive()).filter((p) => servingStatuses.has(p.status));
    const sampled = await Promise.all(
      serving.map(async (preview) => {
        const stats = await this.deps.runner.stats(preview.previewId).catch(() => undefined);
        if (!stats) return false;
        await this.deps.metrics.recordResources(preview.previewId, {
          at: this.deps.clock.now().toISOString(),
          ...stats,
        });
        return true;
      }),
    );
    return sampled.filter(Boolean).length;
  }
}
