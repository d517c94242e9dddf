import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketsOf } from '#core/metrics.js';
import type { ResourceSample } from '#core/metrics.js';
import { PreviewMetrics } from '#core/services/preview-metrics.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

const mb = 1024 * 1024;
const at = (time: string) => new Date(`2025-10-20T${time}Z`);

function resources(time: string, memoryMb: number, cpuCores: number): ResourceSample {
  return {
    at: at(time).toISOString(),
    memoryUsedBytes: memoryMb * mb,
    memoryLimitBytes: 512 * mb,
    cpuCores,
    networkRxBytes: 10,
    networkTxBytes: 20,
  };
}

describe('metrics in DynamoDB', () => {
  it('reads back one resource sample per minute of the range, oldest first, without the latest item', async () => {
    const { metrics } = previewServiceOn(db);
    for (const sample of [
      resources('11:59:30', 90, 0.1),
      resources('12:00:05', 100, 0.2),
      resources('12:00:40', 110, 0.3),
      resources('12:02:10', 120, 0.4),
      resources('12:05:00', 130, 0.5),
    ]) {
      await metrics.recordResources('pv-res', sample);
    }
    await metrics.recordResources('pv-other', resources('12:01:00', 999, 1));

    const samples = await metrics.resourceSamples('pv-res', { start: at('12:00:00'), end: at('12:04:59') });
    expect(samples).toEqual([resources('12:00:40', 110, 0.3), resources('12:02:10', 120, 0.4)]);
    expect(await metrics.latestResources('pv-res')).toEqual(resources('12:05:00', 130, 0.5));
    expect(await metrics.resourceSamples('pv-none', { start: at('12:00:00'), end: at('13:00:00') })).toEqual(
      [],
    );
  });

  it('answers the metrics query from what the proxy and the sampler stored', async () => {
    const clock = { now: () => at('12:10:00') };
    const { service, metrics } = previewServiceOn(db, { clock });
    const alice = { userId: 'alice-metrics', tier: 'pro' as const };
    const { body } = await service.launch(alice, 'metrics-gen', {});
    const previewId = body.previewInstanceId;
    const request = (time: string, statusCode: number | undefined, durationMs: number, errorType?: string) =>
      // Each request added on its own and all at once: concurrent adds must not lose a count.
      Promise.all(
        bucketsOf([
          {
            at: at(time),
            statusCode,
            durationMs,
            bytesIn: 0,
            bytesOut: 100,
            ...(errorType ? { errorType } : {}),
          },
        ]).map((bucket) => metrics.addRequests(previewId, bucket)),
      );
    await Promise.all([
      request('12:00:01', 200, 10),
      request('12:00:30', 200, 30),
      request('12:01:10', 404, 5),
      request('12:01:20', 500, 50),
      request('12:04:00', undefined, 5000, 'timeout'),
      request('11:50:00', 200, 1),
    ]);
    for (const time of ['12:00:30', '12:01:30', '12:03:30']) {
      await metrics.recordResources(previewId, resources(time, 100, 0.25));
    }

    const series = new PreviewMetrics({ service, metrics, clock });
    const result = await series.series(alice, 'metrics-gen', {
      start: '2025-10-20T12:00:00Z',
      end: '2025-10-20T12:05:00Z',
      period: 120,
    });
    expect(result).toMatchObject({
      previewInstanceId: previewId,
      start: '2025-10-20T12:00:00.000Z',
      end: '2025-10-20T12:05:00.000Z',
      period: 120,
      metrics: {
        memory: [
          { timestamp: '2025-10-20T12:00:00Z', value: 100 },
          { timestamp: '2025-10-20T12:02:00Z', value: 100 },
        ],
        cpu: [
          { timestamp: '2025-10-20T12:00:00Z', value: 0.25 },
          { timestamp: '2025-10-20T12:02:00Z', value: 0.25 },
        ],
        responseTime: [
          { timestamp: '2025-10-20T12:00:00Z', value: 23.8, requests: 4 },
          { timestamp: '2025-10-20T12:04:00Z', value: 5000, requests: 1 },
        ],
        errors: [
          { timestamp: '2025-10-20T12:00:00Z', count: 1, type: '5xx' },
          { timestamp: '2025-10-20T12:04:00Z', count: 1, type: 'timeout' },
        ],
        clientErrors: [{ timestamp: '2025-10-20T12:00:00Z', count: 1 }],
      },
    });
    // Nearest rank over 5, 10, 30 and 50 ms, to within the sketch's 1%.
    expect(result.metrics.responseTime[0]?.p99).toBeCloseTo(30, 0);

    const lastHour = await series.series(alice, 'metrics-gen', { period: 60 });
    expect(lastHour.start).toBe('2025-10-20T11:10:00.000Z');
    expect(lastHour.metrics.responseTime.map((p) => p.timestamp)).toContain('2025-10-20T11:50:00Z');
  });
});
