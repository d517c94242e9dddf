import { describe, expect, it } from 'vitest';
import type { RequestTotals } from '#core/metrics.js';
import { performanceChange, relativeChange, relativeChangePercent } from '#core/performance-change.js';
import { bucketOf } from '#core/quantile-sketch.js';

function totals(durations: number[], errors = 0): RequestTotals {
  const sketch: Record<number, number> = {};
  for (const d of durations) sketch[bucketOf(d)] = (sketch[bucketOf(d)] ?? 0) + 1;
  return {
    requests: durations.length,
    errors,
    durationSumMs: durations.reduce((a, b) => a + b, 0),
    errorTypes: errors > 0 ? { '5xx': errors } : {},
    sketch,
  };
}

describe('relative change', () => {
  it('is signed, rounded to a tenth of a percent, and undefined from zero', () => {
    expect(relativeChange(100, 85)).toBe('-15%');
    expect(relativeChange(80, 90)).toBe('+12.5%');
    expect(relativeChange(3, 3)).toBe('0%');
    expect(relativeChange(0, 0)).toBe('0%');
    expect(relativeChange(0, 0.1)).toBeNull();
  });

  it('has the same change as a number beside it', () => {
    expect(relativeChangePercent(100, 85)).toBe(-15);
    expect(relativeChangePercent(80, 90)).toBe(12.5);
    expect(relativeChangePercent(0, 0)).toBe(0);
    expect(relativeChangePercent(0, 0.1)).toBeNull();
  });
});

describe('performance change between two versions', () => {
  it('compares average, p95 and error rate of the other version with the base', () => {
    const change = performanceChange(
      { label: 'v1', totals: totals([100, 100, 100, 100], 2) },
      { label: 'v2', totals: totals([80, 80, 80, 80], 1) },
    );
    expect(change).toEqual({
      available: true,
      avgResponseTimeChange: '-20%',
      avgResponseTimeChangePercent: -20,
      errorRateChange: '-50%',
      errorRateChangePercent: -50,
      p95ResponseTimeChange: expect.stringMatching(/^-(19|20|21)(\.\d)?%$/),
      p95ResponseTimeChangePercent: expect.any(Number),
      base: {
        requestCount: 4,
        errorCount: 2,
        errorRate: '50%',
        errorRatePercent: 50,
        avgResponseTime: '100ms',
        avgResponseTimeMs: 100,
        p95ResponseTime: expect.stringMatching(/^(99|100|101)(\.\d)?ms$/),
        p95ResponseTimeMs: expect.any(Number),
      },
      other: expect.objectContaining({
        requestCount: 4,
        errorCount: 1,
        errorRate: '25%',
        errorRatePercent: 25,
        avgResponseTime: '80ms',
        avgResponseTimeMs: 80,
      }),
    });
    // Each number is the figure its text shows.
    if (!change.available) throw new Error('measured on both sides');
    expect(`${change.p95ResponseTimeChangePercent}%`).toBe(change.p95ResponseTimeChange);
    expect(`${change.base.p95ResponseTimeMs}ms`).toBe(change.base.p95ResponseTime);
  });

  it('has no error rate change when the base had no errors and the other has some', () => {
    const change = performanceChange(
      { label: 'v1', totals: totals([10]) },
      { label: 'v2', totals: totals([10], 1) },
    );
    expect(change).toMatchObject({ available: true, errorRateChange: null, avgResponseTimeChange: '0%' });
  });

  it('says which side has no measured requests rather than reporting zeros', () => {
    expect(
      performanceChange({ label: 'v1', totals: totals([10]) }, { label: 'v2', totals: totals([]) }),
    ).toEqual({
      available: false,
      reason:
        'No requests have been measured yet for v2; send some through each preview, then compare again.',
    });
    expect(
      performanceChange({ label: 'v1', totals: totals([]) }, { label: 'v2', totals: totals([]) }),
    ).toMatchObject({
      available: false,
      reason: expect.stringContaining('for v1 or v2;'),
    });
  });
});
