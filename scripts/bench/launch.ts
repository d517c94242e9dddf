import type { StatusResponse } from '#core/api-schemas.js';
import { sleep, waitUntilSettled, type UserApi } from './api.js';
import { breakdownOf, describeBreakdowns, hasServiceTrace, type LaunchBreakdown } from './launch-trace.js';
import type { BenchGenerations } from './generations.js';
import { duration, type Report } from './report.js';
import type { BenchResources } from './resources.js';
import { median, summarize } from './stats.js';

export interface LaunchRun {
  readonly generationId: string;
  readonly previewId: string;
  /** From sending the launch request to the first status answer saying healthy. */
  readonly ms: number;
  readonly status: StatusResponse;
  /** From the `built` event: whether the image was there already, and how long that step took. */
  readonly cached: boolean | undefined;
  readonly buildMs: number | undefined;
  /** Where the time went, from the launch's service steps; undefined when it did not get healthy. */
  readonly breakdown: LaunchBreakdown | undefined;
}

export const statusPollMs = 50;
const launchTimeoutMs = 120_000;
/** The service writes a launch's trace just after healthy: how long the bench waits for it. */
const traceTimeoutMs = 5_000;
/** How long the bench waits for the warm-up's database snapshot before timing launches anyway. */
const snapshotTimeoutMs = 120_000;

/** Launches one preview and polls its status every 50 ms until it is healthy or finished. */
export async function launchUntilSettled(
  api: UserApi,
  generationId: string,
  resources: BenchResources,
): Promise<LaunchRun> {
  resources.launching(api, generationId);
  const started = performance.now();
  const sentMs = Date.now();
  const launched = await api.launch(generationId);
  const answeredMs = Date.now();
  resources.previewIds.add(launched.previewInstanceId);
  const status = await waitUntilSettled(api, generationId, {
    pollMs: statusPollMs,
    timeoutMs: launchTimeoutMs,
  });
  const ms = performance.now() - started;
  const seenMs = Date.now();
  const traced = status.status === 'healthy' ? await tracedStatus(api, generationId) : undefined;
  const built = (await api.events(generationId)).find((e) => e.type === 'built')?.data;
  if (built?.cached === false && typeof built.imageRef === 'string')
    resources.builtImages.add(built.imageRef);
  return {
    generationId,
    previewId: launched.previewInstanceId,
    ms,
    status,
    cached: typeof built?.cached === 'boolean' ? built.cached : undefined,
    buildMs: typeof built?.durationMs === 'number' ? built.durationMs : undefined,
    breakdown: traced && breakdownOf(traced, { sentMs, answeredMs, seenMs }),
  };
}

/** True once `GET …/preview/config` lists a database snapshot of the generation. */
async function snapshotReady(api: UserApi, generationId: string): Promise<boolean> {
  const deadline = performance.now() + snapshotTimeoutMs;
  while (performance.now() < deadline) {
    const config = await api.call('GET', `/api/generations/${generationId}/preview/config`);
    if (config.status !== 200 || config.json?.databaseSnapshots?.enabled !== true) return false;
    if (config.json.databaseSnapshots.snapshots.length > 0) return true;
    await sleep(250);
  }
  return false;
}

/** The status once the launch's service steps are on it, or undefined if they do not come. */
async function tracedStatus(api: UserApi, generationId: string): Promise<StatusResponse | undefined> {
  const deadline = performance.now() + traceTimeoutMs;
  while (performance.now() < deadline) {
    const status = await api.status(generationId);
    if (hasServiceTrace(status)) return status;
    await sleep(statusPollMs);
  }
  return undefined;
}

/** One launch → healthy → delete; a run that did not get healthy is reported, not timed. */
async function timedRun(
  api: UserApi,
  generationId: string,
  resources: BenchResources,
  expectCached: boolean | undefined,
  label: string,
): Promise<LaunchRun> {
  const run = await launchUntilSettled(api, generationId, resources);
  await resources.remove(api, generationId);
  const outcome = run.status.status === 'healthy' ? duration(run.ms) : failureOf(run.status);
  const build =
    expectCached === undefined || run.cached === expectCached
      ? ''
      : ` (expected cached=${expectCached}, was ${run.cached})`;
  const coverage = run.breakdown ? `, traced ${(run.breakdown.coverage * 100).toFixed(1)} %` : '';
  console.log(
    `  ${label} ${generationId}: ${outcome}, build step ${duration(run.buildMs ?? NaN)}${coverage}${build}`,
  );
  return run;
}

/** The design's targets: 0.9 s without a database, 1.5 s with PostgreSQL, migrations and seed. */
const cachedTargets: Readonly<Record<string, { ms: number; text: string }>> = {
  'hello-api': { ms: 900, text: 'p50 ≤ 0.9 s' },
  'todo-postgres': { ms: 1500, text: 'p50 ≤ 1.5 s' },
};

export async function cachedLaunches(
  api: UserApi,
  generationIds: readonly string[],
  runs: number,
  resources: BenchResources,
  report: Report,
): Promise<void> {
  for (const generationId of generationIds) {
    // The first launch may build the image; only launches after it are "cached".
    const warmup = await timedRun(api, generationId, resources, undefined, 'warm-up');
    if (warmup.status.status !== 'healthy')
      throw new Error(`${generationId} does not launch: ${failureOf(warmup.status)}`);
    // A database migrated and seeded by the warm-up is kept as a snapshot in the background.
    if (warmup.status.timeline.some((s) => s.step === 'migrations' && !s.restoredFromSnapshot)) {
      const ready = await snapshotReady(api, generationId);
      console.log(`  database snapshot of ${generationId}: ${ready ? 'ready' : 'not made (see the log)'}`);
    }
    const timed: LaunchRun[] = [];
    for (let i = 1; i <= runs; i += 1) {
      timed.push(await timedRun(api, generationId, resources, true, `run ${i}`));
    }
    const target = cachedTargets[generationId] ?? cachedTargets['todo-postgres']!;
    addLaunchRows(report, `launch → healthy, cached, ${generationId}`, timed, target.ms, target.text);
  }
}

export async function coldLaunches(
  api: UserApi,
  baseIds: readonly string[],
  runs: number,
  generations: BenchGenerations,
  resources: BenchResources,
  report: Report,
): Promise<void> {
  for (const baseId of baseIds) {
    const timed: LaunchRun[] = [];
    for (let n = 1; n <= runs; n += 1) {
      const generationId = await generations.coldCopy(baseId, n);
      resources.benchGenerationIds.add(generationId);
      timed.push(await timedRun(api, generationId, resources, false, `run ${n}`));
    }
    addLaunchRows(report, `launch → healthy, cold, ${baseId}`, timed, 4_000, 'p50 ≤ 4 s');
    report.notes.push(
      `launch → healthy, cold, ${baseId}: each run is a copy with a new comment in app/main.py, so a new ` +
        `image tag; Docker's layer cache still serves the layers before \`COPY . .\` (base image, pip install).`,
    );
    const builds = timed.flatMap((r) => (r.cached === false && r.buildMs !== undefined ? [r.buildMs] : []));
    report.percentiles.push({
      name: `  of which image build, ${baseId}`,
      summary: summarize(builds),
      showP99: false,
      target: '',
      met: undefined,
    });
  }
}

function addLaunchRows(
  report: Report,
  name: string,
  runs: readonly LaunchRun[],
  targetP50Ms: number,
  target: string,
): void {
  const healthy = runs.filter((r) => r.status.status === 'healthy');
  const summary = summarize(healthy.map((r) => r.ms));
  report.percentiles.push({
    name,
    summary,
    showP99: false,
    target,
    met: healthy.length === runs.length && summary.p50 <= targetP50Ms,
  });
  if (healthy.length < runs.length) {
    report.notes.push(`${name}: ${runs.length - healthy.length} of ${runs.length} runs did not get healthy.`);
  }
  report.notes.push(`${name}, median step durations: ${stepMedians(healthy)}`);
  const breakdowns = healthy.flatMap((r) => (r.breakdown ? [r.breakdown] : []));
  report.notes.push(`${name}, where the time goes (median start offset, step, median duration):`);
  report.notes.push(...describeBreakdowns(breakdowns));
}

/** Where a launch spends its time, from the status timeline. */
function stepMedians(runs: readonly LaunchRun[]): string {
  const byStep = new Map<string, number[]>();
  for (const run of runs) {
    for (const step of run.status.timeline.filter((s) => s.kind !== 'service')) {
      const ms =
        step.durationMs ?? (step.endedAt ? Date.parse(step.endedAt) - Date.parse(step.startedAt) : NaN);
      // Markers such as first_healthy take no time: they say nothing about where it goes.
      if (Number.isFinite(ms) && ms > 0) byStep.set(step.step, [...(byStep.get(step.step) ?? []), ms]);
    }
  }
  return [...byStep].map(([step, values]) => `${step} ${duration(median(values))}`).join(', ') || 'n/a';
}

export function failureOf(status: StatusResponse): string {
  const failure = status.failure;
  return failure
    ? `${status.status} (${failure.step}: ${failure.reason} — ${failure.message})`
    : status.status;
}
