import { describe, expect, it } from 'vitest';
import { PreviewLogStream, type LiveMessage, type WebSocketConstructor } from '../../client/src/index.js';

/** A WebSocket the test drives: it opens, delivers and drops when told to. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readonly sent: unknown[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.drop(1000, '');
  }

  open(): void {
    this.onopen?.({});
  }

  deliver(...messages: LiveMessage[]): void {
    this.onmessage?.({ data: messages.map((m) => JSON.stringify(m)).join('\n') });
  }

  drop(code = 1006, reason = ''): void {
    this.onclose?.({ code, reason });
  }
}

const line = (cursor: string, message = cursor): LiveMessage => ({
  type: 'log',
  timestamp: '2026-11-26T02:30:06.882Z',
  level: 'INFO',
  source: 'request',
  message,
  metadata: {},
  cursor,
});

function streamOf(options: Partial<ConstructorParameters<typeof PreviewLogStream>[0]> = {}) {
  FakeSocket.instances = [];
  const stream = new PreviewLogStream({
    url: 'ws://127.0.0.1:3000/api/generations/g1/preview/logs',
    previewToken: 'pvt_first',
    WebSocket: FakeSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
    heartbeatMs: 0,
    ...options,
  });
  const received: string[] = [];
  stream.on('log', (message) => received.push(message.message));
  return { stream, received };
}

async function socketNumber(n: number): Promise<FakeSocket> {
  for (let i = 0; i < 200 && FakeSocket.instances.length < n; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const socket = FakeSocket.instances[n - 1];
  if (!socket) throw new Error(`socket ${n} was never opened`);
  return socket;
}

describe('PreviewLogStream', () => {
  it('resumes after the last cursor it handed out and drops what it already handed out', async () => {
    const { stream, received } = streamOf({ buffer: 10, filters: { level: 'WARN', source: ['request'] } });
    const first = await socketNumber(1);
    expect(Object.fromEntries(first.query)).toEqual({
      token: 'pvt_first',
      level: 'WARN',
      source: 'request',
      buffer: '10',
    });
    first.open();
    first.deliver(line('1000-1'), line('1000-2'));
    first.drop();

    const second = await socketNumber(2);
    expect(second.query.get('after')).toBe('1000-2');
    expect(second.query.get('buffer')).toBeNull();
    expect(second.query.get('level')).toBe('WARN');
    second.open();
    second.deliver(line('1000-2'), line('999-7'), line('1000-3'), line('1001-0'));
    expect(received).toEqual(['1000-1', '1000-2', '1000-3', '1001-0']);
    expect(stream.lastCursor).toBe('1001-0');
    stream.close();
    expect(await stream.ended).toBe('closed by the client');
  });

  it('keeps replaced filters and an unsubscribe across reconnections', async () => {
    const { stream } = streamOf({ filters: { level: 'INFO' } });
    const first = await socketNumber(1);
    first.open();
    stream.subscribe({ level: 'ERROR', search: 'boom' });
    expect(first.sent).toEqual([{ action: 'subscribe', filters: { level: 'ERROR', search: 'boom' } }]);
    stream.unsubscribe();
    first.drop();
    const second = await socketNumber(2);
    expect(second.query.get('level')).toBe('ERROR');
    expect(second.query.get('search')).toBe('boom');
    second.open();
    expect(second.sent).toEqual([{ action: 'unsubscribe' }]);
    stream.close();
  });

  it('asks its token function again once the service says the token was rotated (an error, a bare 4000)', async () => {
    const tokens = ['pvt_first', 'pvt_second'];
    let asked = 0;
    const { stream } = streamOf({ previewToken: async () => tokens[asked++] ?? 'pvt_none' });
    const first = await socketNumber(1);
    first.open();
    first.deliver(line('5-1'));
    first.drop(1006);
    const second = await socketNumber(2);
    // A dropped connection keeps the token it had.
    expect(second.query.get('token')).toBe('pvt_first');
    second.open();
    second.deliver({
      type: 'error',
      error: { code: 'unauthorized', message: 'The preview token was rotated.' },
    });
    second.drop(4000, 'closed by the service');
    const third = await socketNumber(3);
    expect(third.query.get('token')).toBe('pvt_second');
    expect(third.query.get('after')).toBe('5-1');
    expect(asked).toBe(2);
    stream.close();
  });

  it('asks its token function again after a refused handshake, and tries a fixed token as it is', async () => {
    // A recovery while the stream was away (the service restarting) rotated the token: the
    // handshake is refused, and a WebSocket does not say why.
    const tokens = ['pvt_first', 'pvt_second'];
    let asked = 0;
    const { stream, received } = streamOf({ previewToken: async () => tokens[asked++] ?? 'pvt_none' });
    const first = await socketNumber(1);
    first.open();
    first.deliver(line('5-1'));
    first.drop(1006);
    const refused = await socketNumber(2);
    expect(refused.query.get('token')).toBe('pvt_first');
    refused.drop(1006);
    const third = await socketNumber(3);
    expect(third.query.get('token')).toBe('pvt_second');
    expect(third.query.get('after')).toBe('5-1');
    third.open();
    third.deliver(line('5-1'), line('5-2'));
    expect(received).toEqual(['5-1', '5-2']);
    stream.close();

    const fixed = streamOf();
    (await socketNumber(1)).drop(1006);
    expect((await socketNumber(2)).query.get('token')).toBe('pvt_first');
    fixed.stream.close();
  });

  it('ends when the service closes a stream opened with a fixed token', async () => {
    const { stream } = streamOf();
    const first = await socketNumber(1);
    first.open();
    first.drop(4000, 'closed by the service');
    expect(await stream.ended).toBe('closed by the service (4000: closed by the service)');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it.each([
    ['the local gateway', 4003],
    ['API Gateway', 1000],
  ])(
    'follows a rotation or a restart to the URL the closing message points to, with a new token (%s closes with %i)',
    async (_where, socketCode) => {
      const tokens = ['pvt_first', 'pvt_second', 'pvt_third'];
      let asked = 0;
      const { stream, received } = streamOf({ previewToken: async () => tokens[asked++] ?? 'pvt_none' });
      const closings: number[] = [];
      stream.on('closing', (message) => closings.push(message.code));
      const first = await socketNumber(1);
      first.open();
      first.deliver(line('5-1'), {
        type: 'closing',
        code: 4003,
        reason: 'The preview token was rotated.',
        previewId: 'p1',
        wsUrl: 'ws://127.0.0.1:3000/api/generations/g1/preview/logs',
      });
      first.drop(socketCode, 'closed');
      const second = await socketNumber(2);
      expect(second.query.get('token')).toBe('pvt_second');
      expect(second.query.get('after')).toBe('5-1');
      second.open();
      second.deliver(line('6-1'), {
        type: 'closing',
        code: 4004,
        reason: 'The preview restarted with a new token.',
        previewId: 'p2',
        wsUrl: 'ws://127.0.0.1:3000/api/generations/g1/preview/logs?generationId=g1',
      });
      second.drop(socketCode, 'closed');
      const third = await socketNumber(3);
      expect(new URL(third.url).pathname).toBe('/api/generations/g1/preview/logs');
      expect(Object.fromEntries(third.query)).toEqual({
        generationId: 'g1',
        token: 'pvt_third',
        after: '6-1',
      });
      expect(closings).toEqual([4003, 4004]);
      expect(received).toEqual(['5-1', '6-1']);
      stream.close();
    },
  );

  it.each([
    [4001, 'The preview stopped (session expired).'],
    [4002, 'The preview was deleted.'],
    [4005, 'The preview failed (build_failed).'],
  ])('ends on close code %i, even with a token function and an AWS close (1000)', async (code, reason) => {
    const { stream } = streamOf({ previewToken: async () => 'pvt_any' });
    const first = await socketNumber(1);
    first.open();
    first.deliver({ type: 'closing', code, reason });
    first.drop(1000, '');
    expect(await stream.ended).toBe(`closed by the service (${code}: ${reason})`);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('keeps going on a status snapshot of any kind, and gives up after its attempts', async () => {
    const stopping = streamOf();
    const first = await socketNumber(1);
    first.open();
    first.deliver({
      type: 'status',
      timestamp: '2026-11-26T02:30:06.882Z',
      previewId: 'p1',
      status: 'stopping',
      statusReason: 'deleted',
      expiresAt: null,
      health: { status: 'unknown', checks: [] },
    });
    expect(stopping.stream.state).toBe('open');
    stopping.stream.close();

    const giving = streamOf({ reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    (await socketNumber(1)).drop();
    (await socketNumber(2)).drop();
    (await socketNumber(3)).drop();
    expect(await giving.stream.ended).toMatch(/^gave up after 2 attempts: connection closed \(1006\)/);
    expect(FakeSocket.instances).toHaveLength(3);
  });
});
