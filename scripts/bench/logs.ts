import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { UserApi, waitUntilSettled } from './api.js';
import { repoRoot } from './docker.js';
import type { BenchGenerations } from './generations.js';
import { duration, type Report } from './report.js';
import type { BenchResources } from './resources.js';
import { summarize } from './stats.js';

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

interface LogLine {
  readonly type: string;
  readonly message?: string;
  readonly metadata?: { readonly sentAt?: number };
}

/** A client that notes, for each line of a run, how long after the app wrote it the line arrived. */
class TimedClient {
  readonly delays: number[] = [];

  private constructor(
    private readonly socket: WebSocket,
    private readonly run: { name: string },
  ) {
    socket.on('message', (data) => {
      const arrived = Date.now();
      for (const text of data.toString().split('\n')) {
        const line = JSON.parse(text) as LogLine;
        const sentAt = line.metadata?.sentAt;
        if (line.type === 'log' && line.message?.startsWith(this.run.name) && sentAt !== undefined) {
          this.delays.push(arrived - sentAt);
        }
      }
    });
  }

  static open(url: string, run: { name: string }): Promise<TimedClient> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new TimedClient(socket, run)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      socket.once('error', reject);
    });
  }

  close(): void {
    this.socket.terminate();
  }
}

/** A live log-demo preview, its clients, and the name its current run's lines start with. */
interface DemoPreview {
  readonly api: UserApi;
  readonly url: string;
  readonly clients: TimedClient[];
  readonly run: { name: string };
}

interface RunResult {
  readonly delays: number[];
  /** Deliveries (line × client) that had not arrived by the deadline. */
  readonly lost: number;
  readonly expected: number;
}

/**
 * Has each preview's app print `count` lines at `rate` a second, all at once, and waits until every
 * client has them all (or `graceMs` after the last is written: what is missing then is lost).
 */
async function run(
  previews: readonly DemoPreview[],
  name: string,
  count: number,
  rate: number,
  graceMs = 15_000,
): Promise<RunResult> {
  for (const preview of previews) {
    preview.run.name = `${name} `;
    for (const client of preview.clients) client.delays.length = 0;
  }
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
  const clients = previews.flatMap((p) => p.clients);
  const deadline = Date.now() + (count / rate) * 1000 + graceMs;
  while (clients.some((c) => c.delays.length < count) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const lost = clients.reduce((sum, c) => sum + Math.max(0, count - c.delays.length), 0);
  return { delays: clients.flatMap((c) => c.delays), lost, expected: count * clients.length };
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
      return { api, url, clients: [], run: { name: '' } };
    }),
  );
}

/** Lines a warm-up run waits for: every client's replay has run and it gets live lines once it ends. */
const warmupGraceMs = 120_000;

/** Opens `count` more clients on each preview, 50 at a time. */
async function connect(previews: readonly DemoPreview[], count: number): Promise<void> {
  const wanted = previews.flatMap((p) => Array.from({ length: count }, () => p));
  for (let i = 0; i < wanted.length; i += 50) {
    const opened = await Promise.all(
      wanted.slice(i, i + 50).map(async (p) => ({ p, client: await TimedClient.open(p.url, p.run) })),
    );
    for (const { p, client } of opened) p.clients.push(client);
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
    body: (previews: DemoPreview[]) => Promise<void>,
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
    try {
      await body(previews);
    } finally {
      for (const client of previews.flatMap((p) => p.clients)) client.close();
      await Promise.all(users.map((api) => resources.remove(api, generationId)));
    }
  };
  const lines = options.lineRate * options.seconds;

  await part('rate', 1, async (previews) => {
    await connect(previews, 1);
    await run(previews, 'warmup', 200, options.lineRate, warmupGraceMs);
    const result = await run(previews, 'rate', lines, options.lineRate);
    report.percentiles.push({
      name: `log line → WebSocket client, ${options.lineRate} lines/s${lostNote(result)}`,
      summary: summarize(result.delays),
      showP99: true,
      target: 'p99 ≤ 25 ms',
      met: result.lost === 0 && summarize(result.delays).p99 <= 25,
    });
  });

  await part('previews', options.previews, async (previews) => {
    await connect(previews, 1);
    await run(previews, 'warmup', 200, options.lineRate, warmupGraceMs);
    const result = await run(previews, 'previews', lines, options.lineRate);
    const summary = summarize(result.delays);
    report.percentiles.push({
      name: `log lines, ${options.previews} previews × ${options.lineRate} lines/s${lostNote(result)}`,
      summary,
      showP99: true,
      target: '0 lost, p99 ≤ 50 ms',
      met: result.lost === 0 && summary.p99 <= 50,
    });
  });

  await part('fanout', 1, async (previews) => {
    await connect(previews, options.clients);
    await run(previews, 'fanout-warmup', 5, options.fanOutRate, warmupGraceMs);
    const result = await run(previews, 'fanout', options.fanOutRate * options.seconds, options.fanOutRate);
    const summary = summarize(result.delays);
    report.percentiles.push({
      name: `log fan-out: 1 preview → ${options.clients} clients, ${options.fanOutRate} lines/s${lostNote(result)}`,
      summary,
      showP99: true,
      target: 'p99 ≤ 100 ms',
      met: result.lost === 0 && summary.p99 <= 100,
    });
  });

  await part('many', options.manyPreviews, async (previews) => {
    await connect(previews, options.manyClients);
    await run(previews, 'warmup', 20, options.manyRate, warmupGraceMs);
    const result = await run(previews, 'many', options.manyRate * options.seconds, options.manyRate);
    const summary = summarize(result.delays);
    report.percentiles.push({
      name:
        `log lines, ${options.manyPreviews} previews × ${options.manyClients} clients, ` +
        `${options.manyRate} lines/s each${lostNote(result)}`,
      summary,
      showP99: true,
      target: 'p99 ≤ 100 ms',
      met: result.lost === 0 && summary.p99 <= 100,
    });
  });
}

function lostNote(result: RunResult): string {
  return result.lost === 0 ? '' : ` (${result.lost} of ${result.expected} lost)`;
}
