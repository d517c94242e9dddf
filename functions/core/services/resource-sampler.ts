import type { Clock } from '../clock.js';
import { isCountedDatabase } from '../database-count.js';
import { AppError } from '../errors.js';
import { isServing } from '../lifecycle.js';
import type { LiveNotifier } from '../log-ports.js';
import type { ResourceSample } from '../metrics.js';
import type { MetricsStore, PreviewStore } from '../ports.js';
import type { DatabaseCount, PreviewRecord } from '../preview.js';
import { formatBytes, storageVerdict } from '../storage-allowance.js';
import type { TaskRunner } from '../task-runner.js';

/** Stops a preview that filled its storage allowance (the preview state machine). */
export interface StorageLimitStopper {
  stopForStorage(record: PreviewRecord, message: string): Promise<unknown>;
}

/** Keeps a database's count on its preview (the preview state machine). */
export interface DatabaseCountRecorder {
  recordMeasurement(record: PreviewRecord, changes: { databaseCount: DatabaseCount }): Promise<unknown>;
}

/** How often a preview's database is counted unless told otherwise: a count runs a process in its task. */
const defaultDatabaseCountSeconds = 60;

/**
 * Reads the resource use of every serving preview and keeps it as a sample. Where the runtime
 * measures storage, it holds each preview to its tier's allowance: a warning on the live stream past
 * 90%, a stop with reason `storage_limit` at 100%. Where the runtime can, it also counts each
 * PostgreSQL database's tables and rows, at most once per `databaseCountSeconds`, and keeps the
 * count on the preview's record for its status.
 */
export class ResourceSampler {
  /** Previews warned since their storage last fell below the warning share (one warning per crossing). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly deps: {
      readonly previews: PreviewStore;
      readonly runner: TaskRunner;
      readonly metrics: MetricsStore;
      readonly clock: Clock;
      /** Pushes each sample to the preview's live stream as a `metric` message. */
      readonly notifier?: LiveNotifier;
      /** Absent: storage is measured and shown, never enforced. */
      readonly stopper?: StorageLimitStopper;
      /** Absent: databases are not counted. */
      readonly databaseCounts?: DatabaseCountRecorder;
      readonly databaseCountSeconds?: number;
      /** Previews sampled at once; absent: all of them. */
      readonly concurrency?: number;
    },
  ) {}

  /**
   * Returns how many previews were sampled. A sample asks the runtime (Docker: a stats call and a
   * process in the task): a hundred at once would burst the engine and the machine's memory while
   * launches wait, so at most `concurrency` go at a time; a round then takes longer, never more.
   */
  async sampleAll(): Promise<number> {
    const waiting = (await this.deps.previews.listLive()).filter((p) => isServing(p.status));
    let sampled = 0;
    const sampleWaiting = async () => {
      for (let preview = waiting.shift(); preview; preview = waiting.shift()) {
        if (await this.sample(preview)) sampled += 1;
      }
    };
    const workers = Math.min(this.deps.concurrency ?? waiting.length, waiting.length);
    await Promise.all(Array.from({ length: workers }, sampleWaiting));
    return sampled;
  }

  /** Samples one preview; false when the runtime could not read its task. */
  private async sample(preview: PreviewRecord): Promise<boolean> {
    const [stats] = await Promise.all([
      this.deps.runner.stats(preview.previewId).catch(() => undefined),
      this.countDatabase(preview),
    ]);
    if (!stats) return false;
    const sample = { at: this.deps.clock.now().toISOString(), ...stats };
    await this.deps.metrics.recordResources(preview.previewId, sample);
    await this.deps.notifier?.resourcesSampled(preview.previewId, sample);
    await this.holdToStorageAllowance(preview, sample);
    return true;
  }

  /** Counts the preview's database when its last count is older than the counting period. */
  private async countDatabase(preview: PreviewRecord): Promise<void> {
    const { runner, databaseCounts, clock } = this.deps;
    if (!runner.countDatabase || !databaseCounts || !isCountedDatabase(preview.dbType)) return;
    const now = clock.now();
    const periodMs = (this.deps.databaseCountSeconds ?? defaultDatabaseCountSeconds) * 1000;
    const last = preview.databaseCount?.countedAt;
    if (last !== undefined && now.getTime() - Date.parse(last) < periodMs) return;
    const tally = await runner.countDatabase(preview.previewId).catch(() => undefined);
    if (!tally) return;
    try {
      await databaseCounts.recordMeasurement(preview, {
        databaseCount: { ...tally, countedAt: now.toISOString() },
      });
    } catch (error) {
      // Stopped meanwhile: there is nothing to show the count on.
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
    }
  }

  private async holdToStorageAllowance(preview: PreviewRecord, sample: ResourceSample): Promise<void> {
    const usedBytes = sample.storageUsedBytes;
    if (usedBytes === undefined) return;
    const { storageGb } = preview.resources;
    const verdict = storageVerdict(usedBytes, storageGb);
    if (verdict.state === 'within') {
      this.warned.delete(preview.previewId);
      return;
    }
    if (verdict.state === 'exceeded') {
      this.warned.delete(preview.previewId);
      await this.deps.stopper?.stopForStorage(
        preview,
        `its storage is full: ${formatBytes(usedBytes)} used of the ${storageGb}GB the ${preview.tier} tier allows`,
      );
      return;
    }
    if (this.warned.has(preview.previewId)) return;
    this.warned.add(preview.previewId);
    await this.deps.notifier?.storageFilling(preview.previewId, {
      at: sample.at,
      usedBytes,
      storageGb,
      percent: verdict.percent,
    });
  }
}
