import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { isServing, isTerminal } from '../lifecycle.js';
import type { LaunchStarter, PreviewStore } from '../ports.js';
import type { PreviewRecord } from '../preview.js';
import { serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { TaskRunner } from '../task-runner.js';
import type { PreviewLauncher } from './preview-launcher.js';
import type { PreviewStateMachine } from './preview-state-machine.js';

export interface PreviewSweeperDependencies {
  readonly previews: PreviewStore;
  readonly stateMachine: PreviewStateMachine;
  readonly launcher: PreviewLauncher;
  readonly runner: TaskRunner;
  /** Hands a launch whose launcher is gone to a new one (the start-preview function). */
  readonly starter: LaunchStarter;
  readonly clock: Clock;
  /** A launch not healthy after this long is failed and cleaned up. */
  readonly launchTimeoutSeconds: number;
  /** Told to the user's open connections before the session ends. */
  readonly warnBeforeExpirySeconds: number;
  readonly warn?: (previewId: string, secondsLeft: number) => Promise<void>;
  readonly serviceMetrics?: ServiceMetrics;
  /** Told of a preview the sweep could not handle; the sweep goes on with the others. */
  readonly onFailure?: (previewId: string, error: unknown) => void;
}

export interface SweepResult {
  readonly expired: number;
  readonly warned: number;
  readonly abandoned: number;
  readonly orphansRemoved: number;
  readonly vanished: number;
  /** Stops that had failed or been cut off, finished. */
  readonly stopsFinished: number;
  /** Launches (or recoveries) whose launcher was gone, handed to a new one. */
  readonly takenOver: number;
  /** Started tasks whose launcher was gone before their app answered, read from the runtime again. */
  readonly rechecked: number;
  /** Previews whose step failed this time (logged and counted); the next sweep tries them again. */
  readonly failed: number;
}

const launchingStatuses = new Set(['requested', 'building', 'launching']);
const takeoverStatuses = new Set([...launchingStatuses, 'recovering']);
/** A preview still `stopping` this long after its last write has lost its stopper: the sweep finishes it. */
const unfinishedStopMs = 60_000;

/** Launched and not yet healthy once: the launch timeout still applies. */
function neverHealthy(preview: PreviewRecord): boolean {
  return launchingStatuses.has(preview.status) || (preview.status === 'running' && !preview.healthyAt);
}

/**
 * The guarantee that nothing outlives its preview: stops previews past their session, fails
 * launches that hang, hands launches whose launcher died to a new one, removes runtime resources
 * with no live preview (orphans), and recovers previews whose task disappeared. An orphan lives at
 * most one sweep interval.
 */
export class PreviewSweeper {
  constructor(private readonly deps: PreviewSweeperDependencies) {}

  async sweep(): Promise<SweepResult> {
    const now = this.deps.clock.now().getTime();
    const live = await this.deps.previews.listLive();
    const liveIds = new Set(live.map((p) => p.previewId));
    const running = new Set(await this.deps.runner.list());
    this.deps.serviceMetrics?.gauge(serviceMetricNames.activePreviews, live.length);
    const counts = {
      expired: 0,
      warned: 0,
      abandoned: 0,
      orphansRemoved: 0,
      vanished: 0,
      stopsFinished: 0,
      takenOver: 0,
      rechecked: 0,
      failed: 0,
    };

    for (const preview of live) {
      const outcome = await this.isolated(preview.previewId, () => this.sweepPreview(preview, running, now));
      if (outcome) counts[outcome] += 1;
    }
    for (const previewId of running) {
      if (liveIds.has(previewId)) continue;
      const outcome = await this.isolated(previewId, () => this.removeOrphan(previewId));
      if (outcome) counts[outcome] += 1;
    }
    return counts;
  }

  /** What the sweep does to one live preview; each write is conditional on what it decided on. */
  private async sweepPreview(
    preview: PreviewRecord,
    running: ReadonlySet<string>,
    now: number,
  ): Promise<Exclude<keyof SweepResult, 'failed'> | undefined> {
    const expiresAt = preview.expiresAt ? Date.parse(preview.expiresAt) : undefined;
    if (isServing(preview.status) && expiresAt !== undefined && expiresAt <= now) {
      await this.deps.stateMachine.expire(preview);
      return 'expired';
    }
    if (preview.status === 'stopping' && Date.parse(preview.updatedAt) + unfinishedStopMs <= now) {
      await this.deps.stateMachine.finishStop(preview);
      return 'stopsFinished';
    }
    if (
      neverHealthy(preview) &&
      Date.parse(preview.createdAt) + this.deps.launchTimeoutSeconds * 1000 <= now
    ) {
      await this.deps.stateMachine.abandon(
        preview,
        `The launch did not finish within ${this.deps.launchTimeoutSeconds} s.`,
      );
      return 'abandoned';
    }
    if (takeoverStatuses.has(preview.status) && this.deps.launcher.launcherIsGone(preview)) {
      await this.deps.starter.start(preview);
      return 'takenOver';
    }
    if (isServing(preview.status) && !running.has(preview.previewId)) {
      await this.deps.launcher.refresh(preview.previewId);
      return 'vanished';
    }
    if (preview.status === 'running' && this.deps.launcher.launcherIsGone(preview)) {
      // Its launcher died waiting for the app: only the runtime's events move it on, and an app
      // that answered after the last of them (no event says so) would stay `running`.
      await this.deps.launcher.refresh(preview.previewId);
      return 'rechecked';
    }
    if (
      isServing(preview.status) &&
      expiresAt !== undefined &&
      expiresAt - now <= this.deps.warnBeforeExpirySeconds * 1000 &&
      !preview.expiryWarnedAt
    ) {
      // Recorded first, on condition that no one has: of two overlapping sweeps, one warns.
      await this.deps.stateMachine.update(
        preview,
        { expiryWarnedAt: new Date(now).toISOString() },
        { expiryWarnedAt: null, expiresAt: preview.expiresAt ?? null },
      );
      await this.deps.warn?.(preview.previewId, Math.max(0, Math.round((expiresAt - now) / 1000)));
      return 'warned';
    }
    return undefined;
  }

  private async removeOrphan(previewId: string): Promise<'orphansRemoved' | undefined> {
    // Listed as not live a moment ago; read it again so a launch that just began is spared.
    const record = await this.deps.previews.getById(previewId);
    if (record && !isTerminal(record.status)) return undefined;
    await this.deps.runner.stop(previewId);
    return 'orphansRemoved';
  }

  /**
   * One preview's step, apart from the others': a preview another writer moved meanwhile is left
   * to the next sweep, and any other error is reported and counted, never ending the sweep.
   */
  private async isolated<T extends keyof SweepResult>(
    previewId: string,
    step: () => Promise<T | undefined>,
  ): Promise<T | 'failed' | undefined> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof AppError && error.code === 'conflict') return undefined;
      this.deps.serviceMetrics?.count(serviceMetricNames.sweepFailures);
      this.deps.onFailure?.(previewId, error);
      return 'failed';
    }
  }
}
