import type { StatusResponse } from '#core/api-schemas.js';
import { duration } from './report.js';
import { median } from './stats.js';

/** A span of a launch, from the client's side or the service's (`kind: "service"` timeline steps). */
export interface TracedSpan {
  readonly step: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Where one launch's time went: from sending the launch request to seeing it healthy. */
export interface LaunchBreakdown {
  readonly totalMs: number;
  readonly spans: readonly TracedSpan[];
  /** Share of the launch's time inside at least one span (overlaps counted once). */
  readonly coverage: number;
}

/** Steps the bench measures itself: the launch request, and the status poll that saw healthy. */
const launchRequest = 'client.launch-request';
const statusPoll = 'client.status-poll';
const healthyStep = 'record.healthy';

/** True once the launch's service steps are on its status (they are written after healthy). */
export function hasServiceTrace(status: StatusResponse): boolean {
  return status.timeline.some((s) => s.kind === 'service' && s.step === healthyStep);
}

/**
 * The launch's spans between `sentMs` (launch request sent) and `seenMs` (status said healthy), all
 * on the wall clock the service shares with the bench (it runs in the bench's process).
 */
export function breakdownOf(
  status: StatusResponse,
  times: { sentMs: number; answeredMs: number; seenMs: number },
): LaunchBreakdown {
  const service = status.timeline.flatMap((s) =>
    s.kind === 'service' && s.endedAt
      ? [{ step: s.step, startMs: Date.parse(s.startedAt), endMs: Date.parse(s.endedAt) }]
      : [],
  );
  const healthyMs = Math.max(...service.filter((s) => s.step === healthyStep).map((s) => s.endMs));
  const spans: TracedSpan[] = [
    { step: launchRequest, startMs: times.sentMs, endMs: times.answeredMs },
    ...service,
    // The poll may see the status before the healthy write's audit event and notification are done.
    ...(Number.isFinite(healthyMs)
      ? [{ step: statusPoll, startMs: Math.min(healthyMs, times.seenMs), endMs: times.seenMs }]
      : []),
  ];
  const totalMs = times.seenMs - times.sentMs;
  return { totalMs, spans, coverage: totalMs > 0 ? covered(spans, times.sentMs, times.seenMs) / totalMs : 0 };
}

/** Milliseconds of [from, to] inside at least one span. */
function covered(spans: readonly TracedSpan[], from: number, to: number): number {
  const clipped = spans
    .map((s) => [Math.max(s.startMs, from), Math.min(s.endMs, to)] as const)
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reach = from;
  for (const [start, end] of clipped) {
    if (end <= reach) continue;
    total += end - Math.max(start, reach);
    reach = end;
  }
  return total;
}

/**
 * The median time of each step over the runs (a step that ran twice in a launch counts its sum),
 * in the order steps first start, and the median and lowest coverage.
 */
export function describeBreakdowns(breakdowns: readonly LaunchBreakdown[]): string[] {
  if (breakdowns.length === 0) return ['n/a'];
  const byStep = new Map<string, { offsets: number[]; ms: number[] }>();
  for (const breakdown of breakdowns) {
    const origin = Math.min(...breakdown.spans.map((s) => s.startMs));
    const sums = new Map<string, { offset: number; ms: number }>();
    for (const span of breakdown.spans) {
      const sum = sums.get(span.step) ?? { offset: span.startMs - origin, ms: 0 };
      sums.set(span.step, { offset: sum.offset, ms: sum.ms + (span.endMs - span.startMs) });
    }
    for (const [step, { offset, ms }] of sums) {
      const entry = byStep.get(step) ?? { offsets: [], ms: [] };
      entry.offsets.push(offset);
      entry.ms.push(ms);
      byStep.set(step, entry);
    }
  }
  const steps = [...byStep]
    .map(([step, { offsets, ms }]) => ({ step, at: median(offsets), ms: median(ms) }))
    .sort((a, b) => a.at - b.at);
  const coverages = breakdowns.map((b) => b.coverage);
  return [
    `trace covers ${percent(median(coverages))} of the launch (median; lowest ${percent(Math.min(...coverages))})`,
    ...steps.map(
      (s) => `  +${duration(s.at).padStart(8)}  ${s.step.padEnd(28)} ${duration(s.ms).padStart(8)}`,
    ),
  ];
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}
