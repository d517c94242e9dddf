import { describe, expect, it } from 'vitest';
import type { LiveNotifier } from '#core/log-ports.js';
import type { ResourceSample } from '#core/metrics.js';
import type { PreviewRecord } from '#core/preview.js';
import { PreviewStateMachine } from '#core/services/preview-state-machine.js';
import { ResourceSampler } from '#core/services/resource-sampler.js';
import type { StorageUsage } from '#core/storage-allowance.js';
import type { ContainerStats } from '#core/task-runner.js';
import {
  InMemoryEventStore,
  InMemoryMetricsStore,
  InMemoryPreviewStore,
  InMemoryQuotaStore,
  InMemoryRuntime,
  ManualClock,
  previewRecord,
} from '../support/in-memory.js';

const gb = 1024 ** 3;

function stats(fields: Partial<ContainerStats> = {}): ContainerStats {
  return {
    memoryUsedBytes: 100 * 1024 ** 2,
    memoryLimitBytes: 1024 ** 3,
    cpuCores: 0.25,
    networkRxBytes: 10,
    networkTxBytes: 20,
    ...fields,
  };
}

/** What the sampler told the live stream and asked the stopper, in order. */
class Observer implements Pick<LiveNotifier, 'resourcesSampled' | 'storageFilling'> {
  readonly samples: { previewId: string; sample: ResourceSample }[] = [];
  readonly warnings: { previewId: string; usage: StorageUsage }[] = [];
  readonly stops: { previewId: string; message: string }[] = [];
  async resourcesSampled(previewId: string, sample: ResourceSample) {
    this.samples.push({ previewId, sample });
  }
  async storageFilling(previewId: string, usage: StorageUsage) {
    this.warnings.push({ previewId, usage });
  }
  async stopForStorage(record: PreviewRecord, message: string) {
    this.stops.push({ previewId: record.previewId, message });
  }
}

function world(options: { enforce?: boolean; concurrency?: number } = {}) {
  const previews = new InMemoryPreviewStore();
  const runtime = new InMemoryRuntime();
  const metrics = new InMemoryMetricsStore();
  const clock = new ManualClock();
  const observer = new Observer();
  const sampler = new ResourceSampler({
    previews,
    runner: runtime,
    metrics,
    clock,
    notifier: observer as unknown as LiveNotifier,
    ...(options.enforce === false ? {} : { stopper: observer }),
    databaseCounts: new PreviewStateMachine({
      previews,
      quotas: new InMemoryQuotaStore(),
      events: new InMemoryEventStore(),
      runner: runtime,
      clock,
    }),
    databaseCountSeconds: 60,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  /** A preview with storage allowance 1 GB whose app uses `storageUsedBytes`. */
  const serving = (
    previewId: string,
    usage: Partial<ContainerStats> = {},
    status: PreviewRecord['status'] = 'healthy',
  ) => {
    previews.put(previewRecord({ previewId, status }));
    runtime.usage.set(previewId, stats(usage));
  };
  return { previews, runtime, metrics, clock, observer, sampler, serving };
}

describe('ResourceSampler', () => {
  it('records and streams one sample per serving preview, stamped with the clock', async () => {
    const { metrics, observer, sampler, serving } = world();
    serving('p1', { cpuCores: 0.5 });
    serving('p2', { memoryUsedBytes: 42 });

    expect(await sampler.sampleAll()).toBe(2);

    expect(await metrics.latestResources('p1')).toEqual({
      at: '2026-01-01T12:00:00.000Z',
      ...stats({ cpuCores: 0.5 }),
    });
    expect((await metrics.latestResources('p2'))?.memoryUsedBytes).toBe(42);
    expect(observer.samples.map((s) => s.previewId).sort()).toEqual(['p1', 'p2']);
  });

  it('samples at most its concurrency of previews at once, and every one of them', async () => {
    const { runtime, sampler, serving } = world({ concurrency: 2 });
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) serving(id);
    let inFlight = 0;
    let mostAtOnce = 0;
    const read = runtime.stats.bind(runtime);
    runtime.stats = async (previewId) => {
      inFlight += 1;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return read(previewId);
    };

    expect(await sampler.sampleAll()).toBe(5);
    expect(mostAtOnce).toBe(2);
  });

  it('leaves out previews that are not serving: launching, stopping, stopped', async () => {
    const { metrics, sampler, serving } = world();
    serving('launching', {}, 'launching');
    serving('stopping', {}, 'stopping');
    serving('stopped', {}, 'stopped');
    serving('degraded', {}, 'degraded');

    expect(await sampler.sampleAll()).toBe(1);
    expect(await metrics.latestResources('degraded')).toBeDefined();
    for (const id of ['launching', 'stopping', 'stopped'])
      expect(await metrics.latestResources(id)).toBeUndefined();
  });

  it('skips a preview whose stats are missing or fail, and samples the others', async () => {
    const { runtime, metrics, sampler, serving } = world();
    serving('failing');
    serving('no-stats');
    serving('ok');
    runtime.failingStats.add('failing');
    runtime.usage.delete('no-stats');

    expect(await sampler.sampleAll()).toBe(1);
    expect(await metrics.latestResources('ok')).toBeDefined();
    expect(await metrics.latestResources('failing')).toBeUndefined();
    expect(await metrics.latestResources('no-stats')).toBeUndefined();
  });

  it('warns once when storage passes 90% of the allowance, and again only after it fell below', async () => {
    const { runtime, observer, sampler, serving } = world();
    serving('p1', { storageUsedBytes: 0.95 * gb });

    await sampler.sampleAll();
    await sampler.sampleAll();
    expect(observer.warnings).toHaveLength(1);
    expect(observer.warnings[0]?.usage).toEqual({
      at: '2026-01-01T12:00:00.000Z',
      usedBytes: 0.95 * gb,
      storageGb: 1,
      percent: 95,
    });

    runtime.usage.set('p1', stats({ storageUsedBytes: 0.5 * gb }));
    await sampler.sampleAll();
    runtime.usage.set('p1', stats({ storageUsedBytes: 0.92 * gb }));
    await sampler.sampleAll();

    expect(observer.warnings.map((w) => w.usage.percent)).toEqual([95, 92]);
    expect(observer.stops).toEqual([]);
  });

  it('stops a preview whose storage is full, saying how much of what tier it used', async () => {
    const { observer, sampler, serving } = world();
    serving('full', { storageUsedBytes: gb });
    serving('fine', { storageUsedBytes: 0.1 * gb });

    await sampler.sampleAll();

    expect(observer.stops).toEqual([
      { previewId: 'full', message: 'its storage is full: 1GB used of the 1GB the pro tier allows' },
    ]);
    expect(observer.warnings).toEqual([]);
  });

  it('measures storage but enforces nothing without a stopper', async () => {
    const { metrics, observer, sampler, serving } = world({ enforce: false });
    serving('full', { storageUsedBytes: 2 * gb });

    expect(await sampler.sampleAll()).toBe(1);
    expect((await metrics.latestResources('full'))?.storageUsedBytes).toBe(2 * gb);
    expect(observer.stops).toEqual([]);
  });

  it('holds a runtime that does not measure storage to nothing', async () => {
    const { observer, sampler, serving } = world();
    serving('p1');

    await sampler.sampleAll();

    expect(observer.warnings).toEqual([]);
    expect(observer.stops).toEqual([]);
  });

  describe('database counts', () => {
    const tally = { tables: 2, records: 5 };

    it('counts a serving PostgreSQL database and keeps the count on its record, with its time', async () => {
      const { previews, runtime, sampler, serving } = world();
      serving('pg');
      previews.put(previewRecord({ previewId: 'pg', dbType: 'postgresql', version: 3 }));
      runtime.databases.set('pg', tally);

      await sampler.sampleAll();

      const stored = await previews.getById('pg');
      expect(stored?.databaseCount).toEqual({ ...tally, countedAt: '2026-01-01T12:00:00.000Z' });
      // Another writer's fields are its own: the health monitor's timestamp is not touched.
      expect(stored?.updatedAt).toBe('2026-01-01T11:00:00.000Z');
    });

    it('counts again only once the counting period has passed', async () => {
      const { clock, previews, runtime, sampler, serving } = world();
      serving('pg');
      previews.put(previewRecord({ previewId: 'pg', dbType: 'postgresql' }));
      runtime.databases.set('pg', tally);

      await sampler.sampleAll();
      clock.advance(59);
      runtime.databases.set('pg', { tables: 2, records: 6 });
      await sampler.sampleAll();
      expect(runtime.counted).toEqual(['pg']);
      expect((await previews.getById('pg'))?.databaseCount?.records).toBe(5);

      clock.advance(1);
      await sampler.sampleAll();
      expect(runtime.counted).toEqual(['pg', 'pg']);
      expect((await previews.getById('pg'))?.databaseCount).toEqual({
        tables: 2,
        records: 6,
        countedAt: '2026-01-01T12:01:00.000Z',
      });
    });

    it('asks no runtime about databases it cannot count, nor about previews that are not serving', async () => {
      const { previews, runtime, sampler, serving } = world();
      for (const [previewId, dbType] of [
        ['none', 'none'],
        ['mongo', 'mongodb'],
        ['lite', 'sqlite'],
      ] as const) {
        serving(previewId);
        previews.put(previewRecord({ previewId, dbType }));
      }
      serving('starting', {}, 'launching');
      previews.put(previewRecord({ previewId: 'starting', dbType: 'postgresql', status: 'launching' }));

      await sampler.sampleAll();

      expect(runtime.counted).toEqual([]);
    });

    it('keeps the last count when a count gets no answer, and samples resources all the same', async () => {
      const { clock, metrics, previews, runtime, sampler, serving } = world();
      serving('pg');
      previews.put(previewRecord({ previewId: 'pg', dbType: 'postgresql' }));
      runtime.databases.set('pg', tally);
      await sampler.sampleAll();

      clock.advance(60);
      runtime.databases.delete('pg');
      expect(await sampler.sampleAll()).toBe(1);

      expect((await previews.getById('pg'))?.databaseCount?.countedAt).toBe('2026-01-01T12:00:00.000Z');
      expect((await metrics.latestResources('pg'))?.at).toBe('2026-01-01T12:01:00.000Z');
    });

    it('drops a count whose preview stopped while it was being taken', async () => {
      const { previews, runtime, sampler, serving } = world();
      serving('pg');
      previews.put(previewRecord({ previewId: 'pg', dbType: 'postgresql' }));
      runtime.databases.set('pg', tally);
      const count = runtime.countDatabase.bind(runtime);
      runtime.countDatabase = async (previewId: string) => {
        const stored = (await previews.getById(previewId))!;
        previews.put({ ...stored, status: 'stopping' });
        return count(previewId);
      };

      await sampler.sampleAll();

      expect((await previews.getById('pg'))?.databaseCount).toBeUndefined();
    });
  });
});
