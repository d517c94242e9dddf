import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import type { LocalRuntime } from '#local/local-runtime.js';
import { UserApi } from './api.js';
import {
  appOrigin,
  imagesOfGenerations,
  leftovers,
  prepareDocker,
  removeImages,
  removeLeftovers,
  snapshotImages,
} from './docker.js';
import { BenchGenerations } from './generations.js';
import { cachedLaunches, coldLaunches, failureOf, launchUntilSettled } from './launch.js';
import { parseOptions, type BenchOptions } from './options.js';
import { benchResults, loadNow, printComparison, readResults, writeResults } from './results.js';
import { duration, megabytes, Report } from './report.js';
import { defaultLogBenchOptions, logLatency, logParts, type LogPart } from './logs.js';
import { proxyOverhead, statusLatency } from './requests.js';
import { BenchResources } from './resources.js';
import { scaleRun } from './scale.js';

const examples = ['hello-api', 'todo-postgres'] as const;
const cleanupStepMs = 120_000;

const started = performance.now();
const loadAtStart = loadNow();
const options = parseOptions(process.argv.slice(2));
const report = new Report();
const resources = new BenchResources();
const failures: string[] = [];
let runtime: LocalRuntime | undefined;
let generations: BenchGenerations | undefined;
let cleanup: Promise<void> | undefined;
let stopping = false;
let finished = false;
/** Database snapshots that were there before the bench: any other is the bench's to remove. */
let snapshotsBefore: ReadonlySet<string> | undefined;

/** Once, whichever comes first: the end of the run, an error, or Ctrl+C. */
function cleanUp(): Promise<void> {
  cleanup ??= removeEverything();
  return cleanup;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A Ctrl+C reaches the bench both from the terminal and relayed by npm/tsx: act once.
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: removing what the bench started…`);
    void cleanUp().finally(() => finish(130));
  });
}

try {
  await run(options);
} catch (error) {
  failures.push(`bench: ${(error as Error).message}`);
} finally {
  await cleanUp();
}
finish(stopping ? 130 : failures.length > 0 ? 1 : 0);

/** Prints what was measured (all of it, or what an interrupted run got to) and exits. */
function finish(code: number): void {
  if (finished) return;
  finished = true;
  console.log('');
  report.print();
  for (const failure of failures) console.log(`FAILED ${failure}`);
  keepResults();
  console.log(`\nRun time: ${duration(performance.now() - started)}`);
  process.exit(code);
}

/** Writes what was measured beside the table, after comparing it with what the last run kept. */
function keepResults(): void {
  if (report.percentiles.length + report.values.length === 0) return;
  const results = benchResults(report, options, loadAtStart, failures);
  const previous = readResults(options.resultsPath);
  if (previous) printComparison(previous, results);
  writeResults(options.resultsPath, results);
  console.log(`\nResults kept in ${options.resultsPath}`);
}

async function run(options: BenchOptions): Promise<void> {
  console.log(
    `Machine: ${cpus().length} CPUs, ${megabytes(totalmem())}; launch/proxy/status as a ${options.tier} user, ` +
      `${options.runs} runs, scale ${options.scale}`,
  );
  console.log('Preparing the Docker engine and base images…');
  await prepareDocker();
  snapshotsBefore = new Set(await snapshotImages());

  generations = await BenchGenerations.create(examples);
  const secret = randomBytes(32).toString('base64url');
  process.env.PREVIEW_RUNNER = 'docker';
  process.env.PREVIEW_JWT_SECRET = secret;
  process.env.PREVIEW_GENERATIONS_DIR = generations.directory;
  // The fan-out figure is one preview's stream to hundreds of clients, beyond the default limit.
  process.env.PREVIEW_MAX_CONNECTIONS_PER_PREVIEW = String(defaultLogBenchOptions.clients + 10);
  // The proxy and status runs call as fast as the service answers, far above one user's request
  // rate (100 a second): they measure latency, not the limiter, which has its own tests.
  process.env.PREVIEW_RATE_LIMIT_PER_SECOND = '100000';
  process.env.PREVIEW_RATE_LIMIT_BURST = '1000000';
  // The service logs every launch at INFO; between the figures that is noise. Its logger reads
  // the level when its module loads, hence the import after setting it.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { startLocalRuntime } = await import('#local/local-runtime.js');
  runtime = await startLocalRuntime({ port: 0, dataDir: undefined });
  console.log(
    `Local runtime at ${runtime.url} (${runtime.runnerKind}), generations in ${generations.directory}`,
  );
  const api = await UserApi.create(runtime.url, secret, 'bench-user', options.tier);

  if (options.only.has('cached')) {
    await section('launch → healthy, image cached', () =>
      cachedLaunches(api, examples, options.runs, resources, report),
    );
  }
  if (options.only.has('cold')) {
    const benchGenerations = generations;
    await section('launch → healthy, cold (build)', () =>
      coldLaunches(api, examples, options.runs, benchGenerations, resources, report),
    );
  }
  if (options.only.has('proxy') || options.only.has('status')) {
    await section('proxy and status calls against one healthy hello-api', async () => {
      const preview = await launchUntilSettled(api, 'hello-api', resources);
      if (preview.status.status !== 'healthy') throw new Error(`hello-api: ${failureOf(preview.status)}`);
      try {
        if (options.only.has('proxy')) {
          const origin = await appOrigin(preview.previewId);
          const loop = { requests: 500, maxMs: 30_000, warmup: 20 };
          await proxyOverhead(api, 'hello-api', origin, '/health', loop, report);
        }
        if (options.only.has('status')) {
          await statusLatency(api, 'hello-api', { requests: 300, maxMs: 30_000, warmup: 20 }, report);
        }
      } finally {
        await resources.remove(api, 'hello-api');
      }
    });
  }
  const parts = new Set<LogPart>(logParts.filter((part) => options.only.has(`log-${part}`)));
  if (parts.size > 0) {
    const benchGenerations = generations;
    const url = runtime.url;
    await section(`log line → WebSocket clients: ${[...parts].join(', ')}`, () =>
      logLatency(url, secret, benchGenerations, resources, report, {
        ...defaultLogBenchOptions,
        parts,
        manyPreviews: options.logPreviews,
      }),
    );
  }
  if (options.only.has('scale')) {
    const url = runtime.url;
    await section(`scale: ${options.scale} hello-api previews at once`, () =>
      scaleRun(url, secret, options.scale, resources, report),
    );
  }
}

/** A section that fails is reported and the next one still runs. */
async function section(title: string, body: () => Promise<void>): Promise<void> {
  if (stopping) return;
  console.log(`\n== ${title}`);
  const sectionStarted = performance.now();
  try {
    await body();
    console.log(`  (${duration(performance.now() - sectionStarted)})`);
  } catch (error) {
    // Once stopping, the runtime is going away under the section: that is no finding.
    const message = stopping ? 'interrupted' : (error as Error).message;
    console.log(`  ${message}`);
    failures.push(`${title}: ${message}`);
  }
}

async function removeEverything(): Promise<void> {
  console.log('\n== clean-up');
  await step('delete previews still live', async () => {
    const errors = await resources.removeAll();
    if (errors.length > 0) throw new Error(errors.join('; '));
  });
  // Closing drains launches still in flight, so nothing starts after the sweep below.
  await step('stop the local runtime', async () => runtime?.close());
  await step('sweep containers, networks, volumes by preview label', async () => {
    const removed = await removeLeftovers(resources.previewIds);
    if (removed > 0) console.log(`  removed ${removed} the service had left`);
  });
  await step('remove images built by the bench', async () => {
    const tags = new Set([
      ...resources.builtImages,
      ...(await imagesOfGenerations(resources.benchGenerationIds)),
    ]);
    const removed = await removeImages(tags);
    console.log(`  removed ${removed.length} image(s)`);
  });
  await step('remove database snapshots made by the bench', async () => {
    const before = snapshotsBefore;
    if (!before) return;
    const removed = await removeImages((await snapshotImages()).filter((tag) => !before.has(tag)));
    console.log(`  removed ${removed.length} snapshot(s)`);
  });
  await step('remove the temporary generations folder', async () => generations?.remove());
  await step('check nothing is left', async () => {
    const left = await leftovers(resources.previewIds);
    const images = await imagesOfGenerations(resources.benchGenerationIds);
    if (left.length + images.length > 0) throw new Error(`left: ${[...left, ...images].join(', ')}`);
    console.log(`  nothing left of ${resources.previewIds.size} previews`);
  });
}

/** Every clean-up step runs, bounded in time, whatever the one before it did. */
async function step(title: string, body: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${duration(cleanupStepMs)}`)), cleanupStepMs);
  });
  try {
    await Promise.race([body(), timeout]);
  } catch (error) {
    console.log(`  ${title}: failed: ${(error as Error).message}`);
    failures.push(`clean-up, ${title}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
