import { fork } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UserApi, waitUntilSettled } from './api.js';
import { repoRoot } from './docker.js';
import type { BenchGenerations } from './generations.js';
import type { ClientAnswer, ClientRequest } from './log-clients.js';
import { duration, type Report } from './report.js';
import type { BenchResources } from './resources.js';
import { summarize } from './stats.js';
import { CpuUse } from './cpu-use.js';

/** The example app that prints lines on demand, each stamped with when it wrote it (`metadata.sentAt`). */
const generationId = 'log-demo';

export const logParts = ['rate', 'previews', 'fanout', 'many'] as const;
export type LogPart = (typeof logParts)[number];

/**
 * The log runs, each bounded in lines and time:
 * - `rate`: one preview, one client, `lineRate` lines/s for `seconds` (target p99 ≤ 25 ms);
 * - `previews`: `previews` previews at `lineRate` lines/s each, one client each (target 0 lost, p99 ≤ 50 ms);
 * - `fanout`: one preview, `clients` clients, `fanOutRate` lines/s (target p99 ≤ 100 ms);
 * - `many`: `manyPreviews` previews × `manyClients` clients, `manyRate` lines/s each (target p99 ≤ 100 ms).
 */
export interface LogBenchOptions {
  readonly parts: ReadonlySet<LogPart>;
  readonly lineRate: number;
  readonly seconds: number;
  readonly previews: number;
  readonly clients: number;
  readonly fanOutRate: number;
  readonly manyPreviews: number;
  readonly manyClients: number;
  readonly manyRate: number;
}

export const defaultLogBenchOptions: Omit<LogBenchOptions, 'parts' | 'manyPreviews'> = {
  lineRate: 1000,
  seconds: 5,
  previews: 10,
  clients: 500,
  fanOutRate: 20,
  manyClients: 5,
  manyRate: 100,
};

/** The bench's clients, in their own process (log-clients.ts); each request is answered by its id. */
class LogClients {
  private readonly child = fork(fileURLToPath(new URL('./log-clients.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    // Typed arrays cross as they are.
    serialization: 'advanced',
  });
  private next = 0;
  private readonly waiting = new Map<number, (answer: ClientAnswer) => void>();

  get pid(): number | undefined {
    return this.child.pid;
  }

  constructor() {
    this.child.on('message', ({ id, answer }: { id: number; answer: ClientAnswer }) => {
      this.waiting.get(id)?.(answer);
      this.waiting.delete(id);
    });
    // Should the clients' process end, what waits on it fails (and so the bench part), not the bench.
    this.child.on('exit', (code) => {
      for (const resolve of this.waiting.values())
        resolve({ ok: false, error: `log clients ended (${code})` });
      this.waiting.clear();
    });
  }

  async ask(request: ClientRequest): Promise<Extract<ClientAnswer, { ok: true }>> {
    const id = (this.next += 1);
    const answer = await new Promise<ClientAnswer>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, request });
    });
    if (!answer.ok) throw new Error(answer.error);
    return answer;
  }

  async close(): Promise<void> {
    await this.ask({ op: 'close' }).catch(() => undefined);
    this.child.disconnect();
  }
}

/** A live log-demo preview: where its clients connect. */
interface DemoPreview {
  readonly api: UserApi;
  readonly url: string;
}

interface RunResult {
  readonly delays: readonly number[];
  /** Deliveries (line × client) that had not arrived by the deadline. */
  readonly lost: number;
  readonly expected: number;
  /** Where the machine's CPU went meanwhile (Linux). */
  readonly cpu: string | undefined;
}

/**
 * Has each preview's app print `count` lines at `rate` a second, all at once, and waits until every
 * client has them all (or `graceMs` after the last is written: what is missing then is lost).
 */
async function run(
  previews: readonly DemoPreview[],
  clients: LogClients,
  name: string,
  count: number,
  rate: number,
  graceMs = 15_000,
): Promise<RunResult> {
  await clients.ask({ op: 'name', name: `${name} ` });
  const cpu = CpuUse.start(clients.pid);
  await Promise.all(
    previews.map(async ({ api }) => {
      const response = await api.call('POST', `/api/generations/${generationId}/preview/request`, {
        method: 'POST',
        path: '/emit',
        body: { count, rate, message: name },
      });
      if (response.json?.statusCode !== 202)
        throw new Error(`/emit answered ${JSON.stringify(response.json)}`);
    }),
  );
  const { collected } = await clients.ask({
    op: 'collect',
    count,
    timeoutMs: (count / rate) * 1000 + graceMs,
  });
  if (!collected) throw new Error('the log clients answered no delays');
  const { delays, lost, expected } = collected;
  return { delays: [...delays], lost, expected, cpu: cpu?.stop() };
}

/** Launches log-demo for each user (one preview each) and waits until all are healthy. */
async function launchDemos(users: readonly UserApi[], resources: BenchResources): Promise<DemoPreview[]> {
  return Promise.all(
    users.map(async (api) => {
      resources.launching(api, generationId);
      const launched = await api.launch(generationId);
      resources.previewIds.add(launched.previewInstanceId);
      const status = await waitUntilSettled(api, generationId, { pollMs: 200, timeoutMs: 300_000 });
      const built = (await api.events(generationId)).find((e) => e.type === 'built')?.data;
      if (built?.cached === false && typeof built.imageRef === 'string')
        resources.builtImages.add(built.imageRef);
      if (status.status !== 'healthy')
        throw new Error(`${generationId} did not get healthy: ${status.status}`);
      if (!launched.previewToken)
        throw new Error(`${generationId} was live already: its token is not shown again`);
      const url = `${launched.wsUrl}?token=${encodeURIComponent(launched.previewToken)}`;
      return { api, url };
    }),
  );
}

/** Lines a warm-up run waits for: every client's replay has run and it gets live lines once it ends. */
const warmupGraceMs = 120_000;

/** Opens `count` clients on each preview, 50 at a time. */
async function connect(previews: readonly DemoPreview[], clients: LogClients, count: number): Promise<void> {
  const wanted = previews.flatMap((p) => Array.from({ length: count }, () => p));
  for (let i = 0; i < wanted.length; i += 50) {
    await Promise.all(wanted.slice(i, i + 50).map((p) => clients.ask({ op: 'open', url: p.url })));
  }
}

/**
 * Log line written by an app → WebSocket client, on live `log-demo` previews of the local runtime.
 * The app stamps each line with its own clock before writing it; the clients share that clock (one
 * machine). Each part launches its own previews and deletes them when done.
 */
export async function logLatency(
  baseUrl: string,
  secret: string,
  generations: BenchGenerations,
  resources: BenchResources,
  report: Report,
  options: LogBenchOptions,
): Promise<void> {
  await cp(
    join(repoRoot, 'examples', 'generations', generationId),
    join(generations.directory, generationId),
    {
      recursive: true,
    },
  );
  const part = async (
    name: LogPart,
    previewCount: number,
    body: (previews: DemoPreview[], clients: LogClients) => Promise<void>,
  ) => {
    if (!options.parts.has(name)) return;
    const users = await Promise.all(
      Array.from({ length: previewCount }, (_, i) =>
        UserApi.create(baseUrl, secret, `bench-logs-${name}-${i + 1}`, 'free'),
      ),
    );
    const started = performance.now();
    const previews = await launchDemos(users, resources);
    console.log(
      `  ${name}: ${previewCount} log-demo preview(s) healthy in ${duration(performance.now() - started)}`,
    );
    const clients = new LogClients();
    try {
      await body(previews, clients);
    } finally {
      await clients.close();
      await Promise.all(users.map((api) => resources.remove(api, generationId)));
    }
  };
  const lines = options.lineRate * options.seconds;

  await part('rate', 1, async (previews, clients) => {
    await connect(previews, clients, 1);
    await run(previews, clients, 'warmup', 200, options.lineRate, warmupGraceMs);
    const result = await run(previews, clients, 'rate', lines, options.lineRate);
    record(report, `log line → WebSocket client, ${options.lineRate} lines/s`, result, 'p99 ≤ 25 ms', 25);
  });

  await part('previews', options.previews, async (previews, clients) => {
    await connect(previews, clients, 1);
    await run(previews, clients, 'warmup', 200, options.lineRate, warmupGraceMs);
    const result = await run(previews, clients, 'previews', lines, options.lineRate);
    record(
      report,
      `log lines, ${options.previews} previews × ${options.lineRate} lines/s`,
      result,
      '0 lost, p99 ≤ 50 ms',
      50,
    );
  });

  await part('fanout', 1, async (previews, clients) => {
    await connect(previews, clients, options.clients);
    await run(previews, clients, 'fanout-warmup', 5, options.fanOutRate, warmupGraceMs);
    const result = await run(
      previews,
      clients,
      'fanout',
      options.fanOutRate * options.seconds,
      options.fanOutRate,
    );
    record(
      report,
      `log fan-out: 1 preview → ${options.clients} clients, ${options.fanOutRate} lines/s`,
      result,
      'p99 ≤ 100 ms',
      100,
    );
  });

  await part('many', options.manyPreviews, async (previews, clients) => {
    await connect(previews, clients, options.manyClients);
    await run(previews, clients, 'warmup', 20, options.manyRate, warmupGraceMs);
    const result = await run(previews, clients, 'many', options.manyRate * options.seconds, options.manyRate);
    record(
      report,
      `log lines, ${options.manyPreviews} previews × ${options.manyClients} clients, ` +
        `${options.manyRate} lines/s each`,
      result,
      'p99 ≤ 100 ms',
      100,
    );
  });
}

/** A run's delays against its target (none lost, p99 within `p99Ms`), and where the CPU went. */
function record(report: Report, name: string, result: RunResult, target: string, p99Ms: number): void {
  const summary = summarize(result.delays);
  const lost = result.lost === 0 ? '' : ` (${result.lost} of ${result.expected} lost)`;
  report.percentiles.push({
    name: `${name}${lost}`,
    summary,
    showP99: true,
    target,
    met: result.lost === 0 && summary.p99 <= p99Ms,
  });
  if (result.cpu)
    report.values.push({ name: `CPU during “${name}”`, value: result.cpu, target: '', met: undefined });
}
