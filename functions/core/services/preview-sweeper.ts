import type { Clock } from '../clock.js';
import { isServing, isTerminal } from '../lifecycle.js';
import type { PreviewStore } from '../ports.js';
import { serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { TaskRunner } from '../task-runner.js';
import type { PreviewLauncher } from './preview-launcher.js';
import type { PreviewService } from './preview-service.js';

export interface PreviewSweeperDependencies {
  readonly previews: PreviewStore;
  readonly service: PreviewService;
  readonly launcher: PreviewLauncher;
  readonly runner: TaskRunner;
  readonly clock: Clock;
  /** A launch not healthy after this long is failed and cleaned up. */
  readonly launchTimeoutSeconds: number;
  /** Told to the user's open connections before the session ends. */
  readonly warnBeforeExpirySeconds: number;
  readonly warn?: (previewId: string, secondsLeft: number) => Promise<void>;
  readonly serviceMetrics?: ServiceMetrics;
}

export interface SweepResult {
  readonly expired: number;
  readonly warned: number;
  readonly abandoned: number;
  readonly orphansRemoved: number;
  readonly vanished: number;
}

const launchingStatuses = new Set(['requested', 'building', 'launching']);

/**
 * The guarantee that nothing outlives its preview: stops previews past their session, fails
 * launches that hang, removes runtime resources with no live preview (orphans), and recovers
 * previews whose task disappeared. An orphan lives at most one sweep interval.
 */
export class PreviewSweeper {
  constructor(private readonly deps: PreviewSweeperDependencies) {}

  async sweep(): Promise<SweepResult> {
    const now = this.deps.clock.now().getTime();
    const live = await this.deps.previews.listLive();
    const liveIds = new Set(live.map((p) => p.previewId));
    const running = new Set(await this.deps.runner.list());
    this.deps.serviceMetrics?.gauge(serviceMetricNames.activePreviews, live.length);
    let expired = 0;
    let warned = 0;
    let abandoned = 0;
    let vanished = 0;

    for (const preview of live) {
      const expiresAt = preview.expiresAt ? Date.parse(preview.expiresAt) : undefined;
      if (isServing(preview.status) && expiresAt !== undefined && expiresAt <= now) {
        await this.deps.service.expire(preview);
        expired += 1;
      } else if (
        launchingStatuses.has(preview.status) &&
        Date.parse(preview.createdAt) + this.deps.launchTimeoutSeconds * 1000 <= now
      ) {
        await this.deps.service.abandon(
          preview,
          `The launch did not finish within ${this.deps.launchTimeoutSeconds} s.`,
        );
        abandoned += 1;
      } else if (isServing(preview.status) && !running.has(preview.previewId)) {
        await this.deps.launcher.refresh(preview.previewId);
        vanished += 1;
      } else if (
        isServing(preview.status) &&
        expiresAt !== undefined &&
        expiresAt - now <= this.deps.warnBeforeExpirySeconds * 1000 &&
        !preview.expiryWarnedAt
      ) {
        await this.deps.warn?.(preview.previewId, Math.max(0, Math.round((expiresAt - now) / 1000)));
        await this.deps.service.update(preview, { expiryWarnedAt: new Date(now).toISOString() });
        warned += 1;
      }
    }

    let orphansRemoved = 0;
    for (const previewId of running) {
      if (liveIds.has(previewId)) continue;
      // Listed as not live a moment ago; read it again so a launch that just began is spared.
      const record = await this.deps.previews.getById(previewId);
      if (record && !isTerminal(record.status)) continue;
      await this.deps.runner.stop(previewId);
      orphansRemoved += 1;
    }
    return { expired, warned, abandoned, orphansRemoved, vanished };
  }
}
