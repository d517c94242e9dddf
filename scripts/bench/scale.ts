import type { StatusResponse } from '#core/api-schemas.js';
import { settledStatuses, sleep, UserApi } from './api.js';
import { freeBridges, leftovers } from './docker.js';
import { failureOf } from './launch.js';
import { memoryUsedBytes, PeakMemory } from './memory.js';
import { duration, megabytes, type Report } from './report.js';
import type { BenchResources } from './resources.js';
import { summarize } from './stats.js';

const generationId = 'hello-api';
/** How many previews were healthy by when: the curve printed for a run of 100. */
const milestones = [10, 25, 50, 100];
const memoryPerPreviewTargetMb = 40;
const deleteAllTargetMs = 10_000;
const timeoutMs = 180_000;
/** With up to 100 previews, one status round is up to 100 calls: poll less often than the launch runs. */
const pollMs = 250;

/** N users launch hello-api at the same moment; then all of it is deleted at once. */
export async function scaleRun(
  baseUrl: string,
  secret: string,
  count: number,
  resources: BenchResources,
  report: Report,
): Promise<void> {
  const apis = await Promise.all(
    Array.from({ length: count }, (_, i) => UserApi.create(baseUrl, secret, `bench-scale-${i + 1}`, 'free')),
  );
  const memoryBefore = await memoryUsedBytes();
  const peak = new PeakMemory();
  peak.start(250);

  const started = performance.now();
  const answerMs: number[] = [];
  const launches = await Promise.allSettled(
    apis.map(async (api) => {
      resources.launching(api, generationId);
      const launched = await api.launch(generationId);
      answerMs.push(performance.now() - started);
      resources.previewIds.add(launched.previewInstanceId);
      return launched.previewInstanceId;
    }),
  );
  const previewIds = new Set(launches.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : [])));
  const launchErrors = launches.flatMap((l) => (l.status === 'rejected' ? [String(l.reason)] : []));

  let pending = apis.filter((_, i) => launches[i]!.status === 'fulfilled');
  const healthyMs: number[] = [];
  const settled: StatusResponse[] = [];
  while (pending.length > 0 && performance.now() - started < timeoutMs) {
    const statuses = await Promise.all(pending.map((api) => api.status(generationId).catch(() => undefined)));
    const elapsed = performance.now() - started;
    for (const status of statuses) {
      if (!status || !settledStatuses.has(status.status)) continue;
      settled.push(status);
      if (status.status === 'healthy') healthyMs.push(elapsed);
    }
    pending = pending.filter((_, i) => !settledStatuses.has(statuses[i]?.status ?? ''));
    if (pending.length > 0) await sleep(pollMs);
  }
  peak.stop();
  console.log(`  ${healthyMs.length}/${count} healthy; deleting all at once`);

  const deleteStarted = performance.now();
  const deletes = await Promise.allSettled(apis.map((api) => resources.remove(api, generationId)));
  const deleteMs = performance.now() - deleteStarted;
  const deleteErrors = deletes.flatMap((d) => (d.status === 'rejected' ? [String(d.reason)] : []));
  const left = await leftovers(previewIds);
  const bridgesKept = await freeBridges();
  // Let the engine hand back the memory of the removed containers before reading it again.
  await sleep(2000);
  const memoryAfter = await memoryUsedBytes();

  const healthy = healthyMs.length;
  const perPreviewBytes = healthy > 0 ? (peak.peak - memoryBefore) / healthy : 0;
  report.percentiles.push({
    name: `scale ${count}: launch request answered`,
    summary: summarize(answerMs),
    showP99: true,
    target: '',
    met: undefined,
  });
  report.percentiles.push({
    name: `scale ${count}: launch → healthy, per preview`,
    summary: summarize(healthyMs),
    showP99: true,
    target: '',
    met: undefined,
  });
  const allHealthy = healthy === count;
  report.values.push(
    {
      name: `scale ${count}: previews healthy at once`,
      value: `${healthy}/${count}`,
      target: '100 small previews',
      // Only a run of 100 can meet the target; a smaller run can still miss it.
      met: allHealthy ? (count >= 100 ? true : undefined) : false,
    },
    {
      name: `scale ${count}: time until all were healthy`,
      value: allHealthy ? duration(Math.max(...healthyMs)) : `not all within ${duration(timeoutMs)}`,
      target: '',
      met: undefined,
    },
    {
      name: `scale ${count}: host memory used before / peak / after`,
      value: `${megabytes(memoryBefore)} / ${megabytes(peak.peak)} / ${megabytes(memoryAfter)}`,
      target: '',
      met: undefined,
    },
    ...healthyCurve(healthyMs, count),
    {
      name: `scale ${count}: memory per healthy preview at peak`,
      value: healthy > 0 ? megabytes(perPreviewBytes) : 'n/a',
      target: `≤ ${memoryPerPreviewTargetMb} MB`,
      met: healthy > 0 ? perPreviewBytes <= memoryPerPreviewTargetMb * 1024 * 1024 : false,
    },
    {
      name: `scale ${count}: delete all at once`,
      value: duration(deleteMs),
      target: `≤ ${duration(deleteAllTargetMs)}`,
      met: deleteMs <= deleteAllTargetMs,
    },
    {
      name: `scale ${count}: containers, networks, volumes left`,
      value: String(left.length),
      target: '0',
      met: left.length === 0,
    },
    {
      name: `scale ${count}: free bridges kept for the next previews`,
      value: String(bridgesKept),
      target: '',
      met: undefined,
    },
  );
  const failed = settled.filter((s) => s.status !== 'healthy').map(failureOf);
  const unsettled = pending.map(() => `still starting after ${duration(timeoutMs)}`);
  for (const [what, list] of [
    ['launch errors', launchErrors],
    ['did not get healthy', [...failed, ...unsettled]],
    ['delete errors', deleteErrors],
    ['left behind', left],
  ] as const) {
    if (list.length > 0) report.notes.push(`scale ${count}, ${what}: ${distinct(list)}`);
  }
}

/** When the 10th, 25th, 50th and 100th preview (of those launched) was healthy. */
function healthyCurve(healthyMs: readonly number[], count: number): Report['values'] {
  const sorted = [...healthyMs].sort((a, b) => a - b);
  return milestones
    .filter((n) => n <= count)
    .map((n) => ({
      name: `scale ${count}: ${n} healthy after`,
      value: sorted.length >= n ? duration(sorted[n - 1]!) : `only ${sorted.length} got healthy`,
      target: '',
      met: undefined,
    }));
}

/** "reason ×3; other ×1": a hundred identical lines say less than one. */
function distinct(lines: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => `${line} ×${n}`).join('; ');
}
