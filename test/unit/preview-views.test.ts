import { describe, expect, it } from 'vitest';
import { statusResponseSchema } from '#core/api-schemas.js';
import { bucketOf } from '#core/quantile-sketch.js';
import { launchView, statusView } from '#core/preview-views.js';
import { previewRecord } from '../support/in-memory.js';

const urls = { api: 'http://127.0.0.1:3000', websocket: undefined };
const now = new Date('2026-01-01T12:00:00.000Z');
const mb = 1024 * 1024;
const record = previewRecord({
  previewId: 'preview-1',
  startedAt: '2026-01-01T11:00:00.000Z',
  resources: { memoryMb: 512, cpu: 0.5, storageGb: 1 },
  health: {
    status: 'healthy',
    consecutiveFailures: 0,
    checkedAt: '2026-01-01T11:59:50.000Z',
    checks: [{ name: 'memory', status: 'passing', usage: '45%', usagePercent: 45 }],
  },
});
const measured = {
  resources: {
    at: '2026-01-01T11:59:50.000Z',
    memoryUsedBytes: 230 * mb,
    memoryLimitBytes: 512 * mb,
    cpuCores: 0.35,
    networkRxBytes: 0,
    networkTxBytes: 0,
    storageUsedBytes: 350 * mb,
  },
  requests: {
    requests: 4,
    errors: 1,
    durationSumMs: 38,
    errorTypes: { '5xx': 1 },
    sketch: { [bucketOf(9)]: 3, [bucketOf(11)]: 1 },
  },
};

describe('the status document', () => {
  const status = statusView(record, urls, now, measured);

  it("keeps the spec's figures as text, each with its number beside it", () => {
    expect(status.resources.memory).toEqual({
      allocated: '512MB',
      allocatedBytes: 512 * mb,
      used: '230MB',
      usedBytes: 230 * mb,
      percent: 44.9,
    });
    expect(status.resources.cpu).toEqual({
      allocated: '0.5 cores',
      allocatedCores: 0.5,
      used: 0.35,
      usedCores: 0.35,
      percent: 70,
    });
    expect(status.resources.storage).toMatchObject({
      allocated: '1GB',
      allocatedBytes: 1024 * mb,
      used: '350MB',
      usedBytes: 350 * mb,
    });
    expect(status.resources.limits.applied).toEqual({
      memory: '512MB',
      memoryBytes: 512 * mb,
      cpu: '0.5 cores',
      cpuCores: 0.5,
    });
    expect(status.performance).toMatchObject({
      errorRate: '25%',
      errorRatePercent: 25,
      avgResponseTime: '10ms',
      avgResponseTimeMs: 10,
    });
    expect(`${status.performance.p95ResponseTimeMs}ms`).toBe(status.performance.p95ResponseTime);
    expect(status.health.checks[0]).toMatchObject({ usage: '45%', usagePercent: 45 });
    expect(statusResponseSchema.parse(status)).toEqual(status);
  });

  it('has nulls, text and number alike, for what is not measured yet', () => {
    const unmeasured = statusView(record, urls, now, {
      resources: undefined,
      requests: { requests: 0, errors: 0, durationSumMs: 0, errorTypes: {}, sketch: {} },
    });
    expect(unmeasured.resources.memory).toMatchObject({ used: null, usedBytes: null, percent: null });
    expect(unmeasured.resources.cpu).toMatchObject({ used: null, usedCores: null, percent: null });
    expect(unmeasured.resources.storage).toMatchObject({ used: null, usedBytes: null, percent: null });
    expect(unmeasured.performance).toMatchObject({
      errorRate: '0%',
      errorRatePercent: 0,
      avgResponseTime: null,
      avgResponseTimeMs: null,
      p95ResponseTime: null,
      p95ResponseTimeMs: null,
    });
  });
});

describe('the launch document', () => {
  it('gives the allocation as text and as numbers', () => {
    expect(launchView(record, urls).resourceAllocated).toEqual({
      memory: '512MB',
      memoryBytes: 512 * mb,
      cpu: '0.5 cores',
      cpuCores: 0.5,
      storage: '1GB',
      storageBytes: 1024 * mb,
    });
  });
});
