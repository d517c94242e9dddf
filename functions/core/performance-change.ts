import type { PerformanceChange } from './api-schemas.js';
import type { RequestTotals } from './metrics.js';
import { quantile } from './quantile-sketch.js';

/** One side of a comparison: what to call it in messages and what was measured of it. */
export interface MeasuredVersion {
  readonly label: string;
  readonly totals: RequestTotals;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The change in percent, to a tenth: 12.5, -15, 0; null when the base is zero and the other is not. */
export function relativeChangePercent(from: number, to: number): number | null {
  if (from === 0) return to === 0 ? 0 : null;
  const change = round1(((to - from) / from) * 100);
  return change === 0 ? 0 : change;
}

/** `+12.5%`, `-15%`, `0%`; null when the base is zero and the other is not (no relative change). */
export function relativeChange(from: number, to: number): string | null {
  const change = relativeChangePercent(from, to);
  return change === null ? null : `${change > 0 ? '+' : ''}${change}%`;
}

function figures(totals: RequestTotals) {
  const p95 = quantile(totals.sketch, 0.95);
  if (totals.requests === 0 || p95 === undefined) return undefined;
  const average = totals.durationSumMs / totals.requests;
  const errorRate = totals.errors / totals.requests;
  const errorRatePercent = Math.round(errorRate * 10000) / 100;
  return {
    average,
    errorRate,
    p95,
    view: {
      requestCount: totals.requests,
      errorCount: totals.errors,
      errorRate: `${errorRatePercent}%`,
      errorRatePercent,
      avgResponseTime: `${round1(average)}ms`,
      avgResponseTimeMs: round1(average),
      p95ResponseTime: `${round1(p95)}ms`,
      p95ResponseTimeMs: round1(p95),
    },
  };
}

/**
 * How the other version performs relative to the base, from the requests measured on each:
 * never a figure for something that was not measured.
 */
export function performanceChange(base: MeasuredVersion, other: MeasuredVersion): PerformanceChange {
  const before = figures(base.totals);
  const after = figures(other.totals);
  if (!before || !after) {
    const unmeasured = [before ? [] : [base.label], after ? [] : [other.label]].flat();
    return {
      available: false,
      reason:
        `No requests have been measured yet for ${unmeasured.join(' or ')}; ` +
        'send some through each preview, then compare again.',
    };
  }
  return {
    available: true,
    avgResponseTimeChange: relativeChange(before.average, after.average),
    avgResponseTimeChangePercent: relativeChangePercent(before.average, after.average),
    errorRateChange: relativeChange(before.errorRate, after.errorRate),
    errorRateChangePercent: relativeChangePercent(before.errorRate, after.errorRate),
    p95ResponseTimeChange: relativeChange(before.p95, after.p95),
    p95ResponseTimeChangePercent: relativeChangePercent(before.p95, after.p95),
    base: before.view,
    other: after.view,
  };
}
