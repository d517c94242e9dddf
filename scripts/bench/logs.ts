import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { waitUntilSettled, type UserApi } from './api.js';
import { repoRoot } from './docker.js';
import type { BenchGenerations } from './generations.js';
import { duration, type Report } from './report.js';
import type { BenchResources } from './resources.js';
import { summarize } from './stats.js';

/** The example app that prints lines on demand, each stamped with when it wrote it (`metadata.sentAt`). */
const generationId = 'log-demo';

export interface LogBenchOptions {
  /** Lines a second for the latency run, and for how long. */
  readonly lineRate: number;
  readonly seconds: number;
  /** Clients of one preview for the fan-out run, and the lines a second they all get. */
  readonly clients: number;
  readonly fanOutRate: number;
}

export const defaultLogBenchOptions: LogBenchOptions = {
  lineRate: 1000,
  seconds: 5,
  clients: 500,
  fanOutRate: 20,
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

/** The run in progress: its lines' messages start with its name. */
const current = { name: '' };

/** Has the app print `count` lines at `rate` a second, and waits until every client has them all. */
async function run(
  api: UserApi,
  clients: readonly TimedClient[],
  name: string,
  count: number,
  rate: number,
): Promise<number[]> {
  current.name = `${name} `;
  for (const client of clients) client.delays.length = 0;
  const response = await api.call('POST', `/api/generations/${generationId}/preview/request`, {
    method: 'POST',
    path: '/emit',
    body: { count, rate, message: current.name.trim() },
  });
  if (response.json?.statusCode !== 202) throw new Error(`/emit answered ${JSON.stringify(response.json)}`);
  const deadline = Date.now() + (count / rate) * 1000 + 15_000;
  while (clients.some((c) => c.delays.length < count) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const missing = clients.reduce((sum, c) => sum + Math.max(0, count - c.delays.length), 0);
  if (missing > 0)
    throw new Error(`${name}: ${missing} of ${count * clients.length} deliveries never arrived`);
  return clients.flatMap((c) => c.delays);
}

/**
 * Log line written by the app → WebSocket client, on a live `log-demo` preview of the local
 * runtime: first one client at 1,000 lines/s (target p99 ≤ 50 ms), then 500 clients of the same
 * preview (target p99 ≤ 100 ms over every line and client). The app stamps each line with its own
 * clock before writing it; the clients share that clock (one machine).
 */
export async function logLatency(
  api: UserApi,
  generations: BenchGenerations,
  resources: BenchResources,
  report: Report,
  options: LogBenchOptions = defaultLogBenchOptions,
): Promise<void> {
  await cp(
    join(repoRoot, 'examples', 'generations', generationId),
    join(generations.directory, generationId),
    {
      recursive: true,
    },
  );
  resources.launching(api, generationId);
  const launched = await api.launch(generationId);
  resources.previewIds.add(launched.previewInstanceId);
  const status = await waitUntilSettled(api, generationId, { pollMs: 100, timeoutMs: 120_000 });
  const built = (await api.events(generationId)).find((e) => e.type === 'built')?.data;
  if (built?.cached === false && typeof built.imageRef === 'string')
    resources.builtImages.add(built.imageRef);
  if (status.status !== 'healthy') throw new Error(`${generationId} did not get healthy: ${status.status}`);
  if (!launched.previewToken)
    throw new Error(`${generationId} was live already: its token is not shown again`);

  const url = `${launched.wsUrl}?token=${encodeURIComponent(launched.previewToken)}`;
  const clients: TimedClient[] = [];
  try {
    clients.push(await TimedClient.open(url, current));
    await run(api, clients, 'warmup', 200, options.lineRate);

    const lines = options.lineRate * options.seconds;
    const started = performance.now();
    const single = summarize(await run(api, clients, 'rate', lines, options.lineRate));
    console.log(
      `  ${lines} lines at ${options.lineRate}/s to 1 client in ${duration(performance.now() - started)}`,
    );
    report.percentiles.push({
      name: `log line → WebSocket client, ${options.lineRate} lines/s`,
      summary: single,
      showP99: true,
      target: 'p99 ≤ 50 ms',
      met: single.p99 <= 50,
    });

    while (clients.length < options.clients) {
      const batch = Math.min(50, options.clients - clients.length);
      clients.push(
        ...(await Promise.all(Array.from({ length: batch }, () => TimedClient.open(url, current)))),
      );
    }
    await run(api, clients, 'fanout-warmup', 5, options.fanOutRate);
    const fanOutLines = options.fanOutRate * options.seconds;
    const fanOut = summarize(await run(api, clients, 'fanout', fanOutLines, options.fanOutRate));
    console.log(`  ${fanOutLines} lines at ${options.fanOutRate}/s to ${clients.length} clients`);
    report.percentiles.push({
      name: `log fan-out: 1 preview → ${clients.length} clients, ${options.fanOutRate} lines/s`,
      summary: fanOut,
      showP99: true,
      target: 'p99 ≤ 100 ms',
      met: fanOut.p99 <= 100,
    });
  } finally {
    for (const client of clients) client.close();
    await resources.remove(api, generationId);
  }
}
