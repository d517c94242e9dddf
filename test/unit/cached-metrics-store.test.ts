import { describe, expect, it } from 'vitest';
import { CachedMetricsStore } from '#core/cached-metrics-store.js';
import { bucketsOf, type RequestBucket, type ResourceSample } from '#core/metrics.js';
import { InMemoryMetricsStore, ManualClock } from '../support/in-memory.js';

/** The in-memory store, counting the reads that reach it. */
class CountingMetrics extends InMemoryMetricsStore {
  reads = 0;

  override async requestBuckets(previewId: string, range?: { start?: Date; end?: Date }) {
    this.reads += 1;
    return super.requestBuckets(previewId, range);
  }

  override async latestResources(previewId: string) {
    this.reads += 1;
    return super.latestResources(previewId);
  }
}

const sample = (memoryUsedBytes: number): ResourceSample => ({
  at: '2026-01-01T12:00:00.000Z',
  memoryUsedBytes,
  memoryLimitBytes: 256 * 1024 ** 2,
  cpuCores: 0.1,
  networkRxBytes: 0,
  networkTxBytes: 0,
});

const requests = (count: number): RequestBucket =>
  bucketsOf(
    Array.from({ length: count }, () => ({
      at: new Date('2026-01-01T12:00:00.000Z'),
      statusCode: 200,
      durationMs: 5,
      bytesIn: 0,
      bytesOut: 2,
    })),
  )[0]!;

function world() {
  const inner = new CountingMetrics();
  const cached = new CachedMetricsStore(inner, new ManualClock(), { ttlMs: 5000, maxEntries: 100 });
  return { inner, cached };
}

describe('CachedMetricsStore', () => {
  it("answers status's reads from memory until the preview's metrics are written", async () => {
    const { inner, cached } = world();
    await cached.recordResources('p1', sample(1));
    await cached.addRequests('p1', requests(2));

    for (let i = 0; i < 3; i += 1) {
      expect((await cached.latestResources('p1'))?.memoryUsedBytes).toBe(1);
      expect((await cached.requestBuckets('p1')).map((b) => b.requests)).toEqual([2]);
    }
    expect(inner.reads).toBe(2);

    await cached.recordResources('p1', sample(7));
    await cached.addRequests('p1', requests(3));

    expect((await cached.latestResources('p1'))?.memoryUsedBytes).toBe(7);
    expect((await cached.requestBuckets('p1')).map((b) => b.requests)).toEqual([5]);
    expect(inner.reads).toBe(4);
  });

  it('reads a range of buckets from the store every time', async () => {
    const { inner, cached } = world();
    const range = { start: new Date('2026-01-01T12:00:00.000Z'), end: new Date('2026-01-01T12:10:00.000Z') };

    await cached.requestBuckets('p1', range);
    await cached.requestBuckets('p1', range);

    expect(inner.reads).toBe(2);
  });
});
