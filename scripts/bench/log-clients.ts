import { WebSocket } from 'ws';

/**
 * The log bench's WebSocket clients, in a process of their own: a client's work (frames, JSON)
 * belongs to the machines of the service's users, not to the process of the service measured.
 * Driven by `LogClients` (logs.ts) through the requests below.
 */
export type ClientRequest =
  | { readonly op: 'open'; readonly url: string }
  /** From now on, lines that start with `name` are timed; earlier timings are dropped. */
  | { readonly op: 'name'; readonly name: string }
  /** Waits until every client has `count` timed lines, or `timeoutMs`; answers the delays. */
  | { readonly op: 'collect'; readonly count: number; readonly timeoutMs: number }
  | { readonly op: 'close' };

/** What `collect` answers: every client's delays, and the deliveries (line × client) still missing. */
export interface Collected {
  readonly delays: Float64Array;
  readonly lost: number;
  readonly expected: number;
}

export type ClientAnswer =
  { readonly ok: true; readonly collected?: Collected } | { readonly ok: false; readonly error: string };

interface LogLine {
  readonly type: string;
  readonly message?: string;
  readonly metadata?: { readonly sentAt?: number };
}

/** A client that notes, for each line of a run, how long after the app wrote it the line arrived. */
class TimedClient {
  readonly delays: number[] = [];

  constructor(
    readonly socket: WebSocket,
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
}

function open(url: string, run: { name: string }): Promise<TimedClient> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(new TimedClient(socket, run)));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

/** The run being timed: every client times the lines of the same run. */
const run = { name: '' };
const clients: TimedClient[] = [];

async function collect(count: number, timeoutMs: number): Promise<ClientAnswer> {
  const deadline = Date.now() + timeoutMs;
  while (clients.some((c) => c.delays.length < count) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const lost = clients.reduce((sum, c) => sum + Math.max(0, count - c.delays.length), 0);
  const delays = Float64Array.from(clients.flatMap((c) => c.delays));
  return { ok: true, collected: { delays, lost, expected: count * clients.length } };
}

async function answer(request: ClientRequest): Promise<ClientAnswer> {
  switch (request.op) {
    case 'open':
      clients.push(await open(request.url, run));
      return { ok: true };
    case 'name':
      run.name = request.name;
      for (const client of clients) client.delays.length = 0;
      return { ok: true };
    case 'collect':
      return collect(request.count, request.timeoutMs);
    case 'close':
      for (const client of clients.splice(0)) client.socket.terminate();
      return { ok: true };
  }
}

process.on('message', ({ id, request }: { id: number; request: ClientRequest }) => {
  void answer(request).then(
    (result) => process.send?.({ id, answer: result }),
    (error: unknown) => process.send?.({ id, answer: { ok: false, error: (error as Error).message } }),
  );
});
// The bench gone, its clients go too.
process.on('disconnect', () => process.exit(0));
