import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.js';
import type { RequestBucket, ResourceSample } from '#core/metrics.js';
import { metricsWindow, requestSeries, resourceSeries } from '#core/metrics-series.js';
import { bucketOf, quantile } from '#core/quantile-sketch.js';

const now = new Date('2025-10-20T12:30:20Z');

function bucket(minute: string, durations: number[], errorTypes: Record<string, number> = {}): RequestBucket {
  const sketch: Record<number, number> = {};
  for (const d of durations) sketch[bucketOf(d)] = (sketch[bucketOf(d)] ?? 0) + 1;
  const errors = Object.entries(errorTypes)
    .filter(([type]) => type !== '4xx')
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    minute: `2025-10-20T${minute}:00Z`,
    requests: durations.length,
    errors,
    durationSumMs: durations.reduce((a, b) => a + b, 0),
    bytesIn: 0,
    bytesOut: 0,
    errorTypes,
    sketch,
  };
}

function sample(at: string, memoryMb: number, cpuCores: number): ResourceSample {
  return {
    at: `2025-10-20T${at}Z`,
    memoryUsedBytes: memoryMb * 1024 * 1024,
    memoryLimitBytes: 512 * 1024 * 1024,
    cpuCores,
    networkRxBytes: 0,
    networkTxBytes: 0,
  };
}

function fieldsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('validation_failed');
    return (error as AppError).details?.fields;
  }
  throw new Error('expected a validation error');
}

const window = (start: string, end: string, periodSeconds = 60) => ({
  start: new Date(`2025-10-20T${start}Z`),
  end: new Date(`2025-10-20T${end}Z`),
  periodSeconds,
});

describe('the metrics window', () => {
  it('is the last hour by default', () => {
    expect(metricsWindow({ period: 60 }, now)).toEqual({
      start: new Date('2025-10-20T11:30:20Z'),
      end: now,
      periodSeconds: 60,
    });
  });

  it('runs from start to now, or for an hour before end', () => {
    expect(metricsWindow({ start: '2025-10-20T12:00:00Z', period: 300 }, now).end).toEqual(now);
    expect(metricsWindow({ end: '2025-10-20T10:00:00Z', period: 60 }, now).start).toEqual(
      new Date('2025-10-20T09:00:00Z'),
    );
  });

  it('refuses an end that is not after start, naming the field', () => {
    expect(
      fieldsOf(() =>
        metricsWindow({ start: '2025-10-20T12:00:00Z', end: '2025-10-20T12:00:00Z', period: 60 }, now),
      ),
    ).toEqual([{ field: 'query.end', message: 'must be after start' }]);
    expect(fieldsOf(() => metricsWindow({ start: '2025-10-20T13:00:00Z', period: 60 }, now))).toEqual([
      { field: 'query.start', message: 'must be in the past (end defaults to now)' },
    ]);
  });

  it('refuses a window longer than a day and accepts one of exactly a day', () => {
    expect(fieldsOf(() => metricsWindow({ start: '2025-10-19T12:30:00Z', period: 60 }, now))).toEqual([
      { field: 'query.start', message: 'the window may span at most 24 hours' },
    ]);
    expect(
      metricsWindow({ start: '2025-10-19T12:00:00Z', end: '2025-10-20T12:00:00Z', period: 3600 }, now)
        .periodSeconds,
    ).toBe(3600);
  });
});

describe('resource series', () => {
  it('averages the samples of each period and leaves out periods without samples', () => {
    const samples = [
      sample('12:00:10', 200, 0.3),
      sample('12:01:10', 220, 0.5),
      sample('12:03:10', 230, 0.1),
      sample('12:07:10', 250, 0.25),
    ];
    expect(resourceSeries(samples, window('12:00:00', '12:10:00', 120))).toEqual({
      memory: [
        { timestamp: '2025-10-20T12:00:00Z', value: 210 },
        { timestamp: '2025-10-20T12:02:00Z', value: 230 },
        { timestamp: '2025-10-20T12:06:00Z', value: 250 },
      ],
      cpu: [
        { timestamp: '2025-10-20T12:00:00Z', value: 0.4 },
        { timestamp: '2025-10-20T12:02:00Z', value: 0.1 },
        { timestamp: '2025-10-20T12:06:00Z', value: 0.25 },
      ],
    });
  });

  it('keeps only samples taken inside the window, and has no points without samples', () => {
    const samples = [sample('11:59:59', 100, 1), sample('12:00:00', 150, 0.5), sample('12:05:00', 300, 2)];
    expect(resourceSeries(samples, window('12:00:00', '12:05:00')).memory).toEqual([
      { timestamp: '2025-10-20T12:00:00Z', value: 150 },
    ]);
    expect(resourceSeries([], window('12:00:00', '12:05:00'))).toEqual({ memory: [], cpu: [] });
  });
});

describe('request series', () => {
  it('gives each period its average and percentiles from the merged sketches of its minutes', () => {
    const first = [10, 20, 30, 40];
    const second = [100, 200, 300, 400, 500, 1000];
    const buckets = [bucket('12:00', first), bucket('12:01', second), bucket('12:04', [50])];
    const series = requestSeries(buckets, window('12:00:00', '12:10:00', 180));
    const merged = [...first, ...second];
    const sketch: Record<number, number> = {};
    for (const d of merged) sketch[bucketOf(d)] = (sketch[bucketOf(d)] ?? 0) + 1;
    expect(series.responseTime).toEqual([
      {
        timestamp: '2025-10-20T12:00:00Z',
        value: 260,
        p95: Math.round((quantile(sketch, 0.95) as number) * 10) / 10,
        p99: Math.round((quantile(sketch, 0.99) as number) * 10) / 10,
        requests: 10,
      },
      {
        timestamp: '2025-10-20T12:03:00Z',
        value: 50,
        p95: expect.closeTo(50, 0),
        p99: expect.closeTo(50, 0),
        requests: 1,
      },
    ]);
    // The 95th percentile of all ten is 500 ms (within the sketch's 1%); averaging the two
    // minutes' own p95 (40 and 500) would say 270.
    expect(Math.abs((series.responseTime[0]?.p95 ?? 0) - 500)).toBeLessThanOrEqual(5);
  });

  it('lists server errors, timeouts and unreachable answers by type; client errors apart', () => {
    const buckets = [
      bucket('12:00', [10, 10, 10, 10], { '5xx': 1, '4xx': 2 }),
      bucket('12:01', [10, 10], { timeout: 1, '5xx': 1 }),
      bucket('12:02', [10], { unreachable: 1 }),
      bucket('12:03', [10, 10]),
    ];
    const series = requestSeries(buckets, window('12:00:00', '12:04:00', 120));
    expect(series.errors).toEqual([
      { timestamp: '2025-10-20T12:00:00Z', count: 2, type: '5xx' },
      { timestamp: '2025-10-20T12:00:00Z', count: 1, type: 'timeout' },
      { timestamp: '2025-10-20T12:02:00Z', count: 1, type: 'unreachable' },
    ]);
    expect(series.clientErrors).toEqual([{ timestamp: '2025-10-20T12:00:00Z', count: 2 }]);
    expect(series.responseTime.map((p) => p.requests)).toEqual([6, 3]);
  });

  it('takes the minutes that overlap the window and no others', () => {
    const buckets = [bucket('11:59', [1]), bucket('12:00', [2]), bucket('12:04', [3]), bucket('12:05', [4])];
    const series = requestSeries(buckets, window('12:00:30', '12:05:00'));
    expect(series.responseTime.map((p) => p.timestamp)).toEqual([
      '2025-10-20T12:00:00Z',
      '2025-10-20T12:04:00Z',
    ]);
  });
});
