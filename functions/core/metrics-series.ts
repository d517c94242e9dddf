import type { MetricsResponse } from './api-schemas.js';
import { invalidFields, type FieldError } from './errors.js';
import { isError, totalRequests, type RequestBucket, type ResourceSample } from './metrics.js';
import { quantile } from './quantile-sketch.js';

/** The time window of a metrics query and the length of each point, in seconds. */
export interface MetricsWindow {
  readonly start: Date;
  readonly end: Date;
  readonly periodSeconds: number;
}

export const metricsWindowLimits = { defaultSeconds: 3600, maxSeconds: 24 * 3600 } as const;

/** The query's window: the last hour by default, `end` after `start`, at most a day long. */
export function metricsWindow(
  query: { readonly start?: string; readonly end?: string; readonly period: number },
  now: Date,
): MetricsWindow {
  const end = query.end === undefined ? now : new Date(query.end);
  const start =
    query.start === undefined
      ? new Date(end.getTime() - metricsWindowLimits.defaultSeconds * 1000)
      : new Date(query.start);
  const seconds = (end.getTime() - start.getTime()) / 1000;
  const problems: FieldError[] = [];
  if (seconds <= 0) {
    problems.push(
      query.end === undefined
        ? { field: 'query.start', message: 'must be in the past (end defaults to now)' }
        : { field: 'query.end', message: 'must be after start' },
    );
  } else if (seconds > metricsWindowLimits.maxSeconds) {
    problems.push({
      field: query.start === undefined ? 'query.end' : 'query.start',
      message: `the window may span at most ${metricsWindowLimits.maxSeconds / 3600} hours`,
    });
  }
  if (problems.length > 0) throw invalidFields(problems);
  return { start, end, periodSeconds: query.period };
}

type Series = MetricsResponse['metrics'];

const minuteMs = 60_000;
const mb = 1024 * 1024;
const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
const timestamp = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Groups items by the period they fall in; periods start at multiples of the period since the epoch. */
function byPeriod<T>(items: readonly T[], at: (item: T) => number, window: MetricsWindow): [number, T[]][] {
  const periodMs = window.periodSeconds * 1000;
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const start = Math.floor(at(item) / periodMs) * periodMs;
    const group = groups.get(start);
    if (group) group.push(item);
    else groups.set(start, [item]);
  }
  return [...groups].sort(([a], [b]) => a - b);
}

/** Memory (MB) and CPU (cores) per period, averaged over the samples inside the window. */
export function resourceSeries(
  samples: readonly ResourceSample[],
  window: MetricsWindow,
): Pick<Series, 'memory' | 'cpu'> {
  const inside = samples.filter((s) => {
    const at = Date.parse(s.at);
    return at >= window.start.getTime() && at < window.end.getTime();
  });
  const periods = byPeriod(inside, (s) => Date.parse(s.at), window);
  const average = (group: ResourceSample[], value: (s: ResourceSample) => number) =>
    group.reduce((sum, s) => sum + value(s), 0) / group.length;
  return {
    memory: periods.map(([start, group]) => ({
      timestamp: timestamp(start),
      value: round(average(group, (s) => s.memoryUsedBytes) / mb, 1),
    })),
    cpu: periods.map(([start, group]) => ({
      timestamp: timestamp(start),
      value: round(
        average(group, (s) => s.cpuCores),
        3,
      ),
    })),
  };
}

/**
 * Response times, errors and client errors per period, from the minutes that overlap the window.
 * Each period's percentiles come from the merged sketches of its minutes, not from averaging
 * per-minute percentiles. Periods without requests have no point.
 */
export function requestSeries(
  buckets: readonly RequestBucket[],
  window: MetricsWindow,
): Pick<Series, 'responseTime' | 'errors' | 'clientErrors'> {
  const inside = buckets.filter((b) => {
    const minute = Date.parse(b.minute);
    return minute < window.end.getTime() && minute + minuteMs > window.start.getTime();
  });
  const series: Pick<Series, 'responseTime' | 'errors' | 'clientErrors'> = {
    responseTime: [],
    errors: [],
    clientErrors: [],
  };
  for (const [start, group] of byPeriod(inside, (b) => Date.parse(b.minute), window)) {
    const totals = totalRequests(group);
    const p95 = quantile(totals.sketch, 0.95);
    const p99 = quantile(totals.sketch, 0.99);
    if (totals.requests === 0 || p95 === undefined || p99 === undefined) continue;
    const at = timestamp(start);
    series.responseTime.push({
      timestamp: at,
      value: round(totals.durationSumMs / totals.requests, 1),
      p95: round(p95, 1),
      p99: round(p99, 1),
      requests: totals.requests,
    });
    for (const [type, count] of Object.entries(totals.errorTypes).sort(([a], [b]) => a.localeCompare(b))) {
      if (count <= 0) continue;
      if (isError(type)) series.errors.push({ timestamp: at, count, type });
      else series.clientErrors.push({ timestamp: at, count });
    }
  }
  return series;
}
