import type { MetricMessage, PreviewMetrics } from '@preview-service/client';
import type { ChartData } from './chart.js';

interface Point {
  /** Seconds since the epoch. */
  readonly time: number;
  readonly value: number;
}

const seconds = (timestamp: string) => Date.parse(timestamp) / 1000;

/** Several series on one time axis, as uPlot takes them: null where a series has no point. */
export function aligned(series: readonly (readonly Point[])[]): ChartData {
  const times = [...new Set(series.flatMap((points) => points.map((p) => p.time)))].sort((a, b) => a - b);
  const columns = series.map((points) => {
    const byTime = new Map(points.map((p) => [p.time, p.value]));
    return times.map((time) => byTime.get(time) ?? null);
  });
  return [times, ...columns];
}

export interface PreviewCharts {
  readonly memory: ChartData;
  readonly cpu: ChartData;
  readonly responseTime: ChartData;
  readonly errors: ChartData;
}

/**
 * The stored per-period metrics followed by the live samples: memory and CPU from both, response
 * times from the stored ones (the live samples carry none), errors per minute from both (a live
 * sample's error rate times its requests per minute).
 */
export function previewCharts(
  stored: PreviewMetrics | undefined,
  live: readonly MetricMessage[],
): PreviewCharts {
  const metrics = stored?.metrics;
  const errorsPerPeriod = new Map<number, number>();
  for (const e of metrics?.errors ?? []) {
    const time = seconds(e.timestamp);
    errorsPerPeriod.set(time, (errorsPerPeriod.get(time) ?? 0) + e.count);
  }
  const liveSeries = (value: (m: MetricMessage) => number): Point[] =>
    live.map((m) => ({ time: seconds(m.timestamp), value: value(m) }));
  const storedSeries = (points: readonly { timestamp: string; value: number }[] | undefined): Point[] =>
    (points ?? []).map((p) => ({ time: seconds(p.timestamp), value: p.value }));
  return {
    memory: aligned([storedSeries(metrics?.memory), liveSeries((m) => m.data.memory)]),
    cpu: aligned([storedSeries(metrics?.cpu), liveSeries((m) => m.data.cpu)]),
    responseTime: aligned([
      (metrics?.responseTime ?? []).map((p) => ({ time: seconds(p.timestamp), value: p.p95 })),
      (metrics?.responseTime ?? []).map((p) => ({ time: seconds(p.timestamp), value: p.p99 })),
    ]),
    errors: aligned([
      [...errorsPerPeriod].map(([time, value]) => ({ time, value })),
      liveSeries((m) => (m.data.requests_per_minute * m.data.error_rate) / 100),
    ]),
  };
}
