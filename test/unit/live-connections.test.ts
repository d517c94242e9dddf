import { describe, expect, it } from 'vitest';
import { hashToken } from '#core/ids.js';
import { logCursor, tokenCursor } from '#core/log-cursor.js';
import type { LogEntry, LogLevel } from '#core/log-entry.js';
import type { LiveConnection } from '#core/log-ports.js';
import { bucketsOf } from '#core/metrics.js';
import type { PreviewHealth, PreviewRecord } from '#core/preview.js';
import { LiveConnections, maxReplayLines } from '#core/services/live-connections.js';
import { LiveDelivery } from '#core/services/live-delivery.js';
import {
  InMemoryConnectionStore,
  InMemoryLogStore,
  InMemoryMetricsStore,
  InMemoryPreviewStore,
  ManualClock,
  RecordingChannel,
  previewRecord,
} from '../support/in-memory.js';

const token = 'the-current-token';
const startMs = Date.parse('2026-01-01T12:00:00.000Z');

function entry(n: number, level: LogLevel = 'INFO'): LogEntry {
  return {
    timestamp: new Date(startMs + n).toISOString(),
    level,
    source: 'request',
    message: `line ${n}`,
    metadata: {},
    cursor: logCursor(startMs + n, String(n)),
  };
}

function world(options: { maxConnectionsPerPreview?: number } = {}) {
  const clock = new ManualClock('2026-01-01T12:00:00.000Z');
  const previews = new InMemoryPreviewStore();
  const connections = new InMemoryConnectionStore();
  const channel = new RecordingChannel();
  const logs = new InMemoryLogStore();
  const metrics = new InMemoryMetricsStore();
  const replays: string[] = [];
  const errors: string[] = [];
  const live = new LiveConnections({
    previews,
    tokens: previews,
    connections,
    channel,
    delivery: new LiveDelivery({ connections, channel, concurrency: 4 }),
    logs,
    replay: {
      start: async (connection) => {
        replays.push(connection.connectionId);
      },
    },
    metrics,
    clock,
    maxConnectionsPerPreview: options.maxConnectionsPerPreview ?? 10,
    urls: { api: 'http://127.0.0.1:3000', websocket: undefined },
    openWaitMs: 100,
    onError: (_error, context) => errors.push(context),
  });
  const preview = (fields: Partial<PreviewRecord> = {}) => {
    const record = previewRecord({
      previewId: 'p1',
      generationId: 'g1',
      tokenHash: hashToken(token),
      ...fields,
    });
    previews.put(record);
    return record;
  };
  /** A connection as `$connect` leaves it: registered, open, waiting for its replay. */
  const connected = async (
    connectionId: string,
    query: { buffer?: number; after?: string; level?: LogLevel } = {},
  ) => {
    channel.open.add(connectionId);
    return live.connect(connectionId, { token, buffer: 0, ...query });
  };
  const stored = (connection: Partial<LiveConnection> & Pick<LiveConnection, 'connectionId'>) =>
    connections.put({
      previewId: 'p1',
      userId: 'user-1',
      generationId: 'g1',
      tokenHash: hashToken(token),
      connectedAt: clock.now().toISOString(),
      filter: { level: 'DEBUG' },
      subscribed: true,
      replay: { buffer: 0 },
      live: true,
      ...connection,
    });
  const logLines = (previewId: string, entries: readonly LogEntry[]) => logs.record(previewId, entries);
  const logsTo = (connectionId: string) => channel.received(connectionId).filter((m) => m.type === 'log');
  return {
    clock,
    logs,
    previews,
    connections,
    channel,
    metrics,
    live,
    replays,
    errors,
    preview,
    connected,
    stored,
    logLines,
    logsTo,
  };
}

describe('LiveConnections.connect', () => {
  it("registers a connection with the preview's current token, with its filter, and starts its replay", async () => {
    const { live, connections, replays, preview } = world();
    preview();

    const connection = await live.connect('c1', { token, generationId: 'g1', level: 'WARN', buffer: 50 });

    expect(connection).toMatchObject({
      previewId: 'p1',
      userId: 'user-1',
      generationId: 'g1',
      filter: { level: 'WARN' },
      replay: { buffer: 50 },
      subscribed: true,
      live: false,
    });
    expect(await connections.get('c1')).toEqual(connection);
    expect(replays).toEqual(['c1']);
  });

  it.each([
    ['no token', undefined],
    ['an unknown token', 'not-a-token'],
  ])('refuses %s with 401', async (_what, presented) => {
    const { live, connections, replays, preview } = world();
    preview();

    await expect(
      live.connect('c1', { ...(presented ? { token: presented } : {}), buffer: 0 }),
    ).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(connections.ids()).toEqual([]);
    expect(replays).toEqual([]);
  });

  it('refuses a token a restart replaced', async () => {
    const { live, previews, preview } = world();
    const record = preview();
    // The token index still finds the old record; the record itself has a new token.
    const index = previews.findByTokenHash.bind(previews);
    previews.findByTokenHash = async (hash) => (hash === hashToken(token) ? record : index(hash));
    preview({ tokenHash: hashToken('the-new-token') });

    await expect(live.connect('c1', { token, buffer: 0 })).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a token of another generation with 403', async () => {
    const { live, preview } = world();
    preview();
    await expect(live.connect('c1', { token, generationId: 'g2', buffer: 0 })).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it.each(['stopped', 'failed'] as const)('refuses the token of a %s preview with 403', async (status) => {
    const { live, preview } = world();
    preview({ status });
    await expect(live.connect('c1', { token, buffer: 0 })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses one connection more than the limit with 429 and a retry time, and forgets it', async () => {
    const { connections, replays, preview, connected } = world({ maxConnectionsPerPreview: 2 });
    preview();
    await connected('c1');
    await connected('c2');

    await expect(connected('c3')).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 5 });
    expect(connections.ids().sort()).toEqual(['c1', 'c2']);
    expect(replays).toEqual(['c1', 'c2']);
  });

  it('lets go of settled connections that are closed (a lost `$disconnect`) to make room', async () => {
    const { clock, connections, channel, preview, connected } = world({ maxConnectionsPerPreview: 2 });
    preview();
    await connected('lost');
    await connected('open');
    channel.open.delete('lost');
    clock.advance(31);

    await connected('new');

    expect(connections.ids().sort()).toEqual(['new', 'open']);
  });

  it('keeps connections too young to tell, even when the endpoint does not know them yet', async () => {
    const { channel, preview, connected } = world({ maxConnectionsPerPreview: 1 });
    preview();
    await connected('handshaking');
    channel.open.delete('handshaking');

    await expect(connected('second')).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('LiveConnections.replay', () => {
  it('sends the last N matching lines, then the lines written since, each once, then goes live after the last', async () => {
    const { live, logs, connections, logsTo, preview, connected, logLines } = world();
    preview();
    await logLines('p1', [entry(1), entry(2, 'DEBUG'), entry(3), entry(4), entry(5, 'DEBUG')]);
    await connected('c1', { buffer: 2, level: 'INFO' });
    const tail = logs.tail.bind(logs);
    logs.tail = async (...args) => {
      const recent = await tail(...args);
      // Lines the app writes while the replay reads the recent ones.
      await logLines('p1', [entry(6), entry(7, 'DEBUG')]);
      return recent;
    };

    const sent = await live.replay('c1');

    expect(sent).toBe(3);
    expect(logsTo('c1').map((m) => m.message)).toEqual(['line 3', 'line 4', 'line 6']);
    expect(await connections.get('c1')).toMatchObject({ live: true, liveAfter: entry(6).cursor });
  });

  it("resumes after the client's cursor with nothing before it", async () => {
    const { live, logsTo, preview, connected, logLines } = world();
    preview();
    await logLines('p1', [entry(1), entry(2), entry(3)]);
    await connected('c1', { after: entry(1).cursor, buffer: 100 });

    await live.replay('c1');

    expect(logsTo('c1').map((m) => m.message)).toEqual(['line 2', 'line 3']);
  });

  it('with no buffer and no cursor, sends the lines written since the connection opened', async () => {
    const { live, logsTo, preview, connected, logLines } = world();
    preview();
    await logLines('p1', [entry(-5_000)]);
    await connected('c1');
    await logLines('p1', [entry(10)]);

    await live.replay('c1');

    expect(logsTo('c1').map((m) => m.message)).toEqual(['line 10']);
  });

  it('stops at the replay limit and tells the client where the log goes on', async () => {
    const { live, connections, channel, preview, connected, logLines } = world();
    preview();
    await connected('c1', { after: entry(0).cursor });
    await logLines(
      'p1',
      Array.from({ length: maxReplayLines + 5 }, (_, i) => entry(i + 1)),
    );

    const sent = await live.replay('c1');

    const received = channel.received('c1');
    const lines = received.filter((m) => m.type === 'log');
    const truncated = received.filter((m) => m.type === 'truncated');
    expect(sent).toBe(maxReplayLines);
    expect(lines).toHaveLength(maxReplayLines);
    expect(new Set(lines.map((m) => m.cursor)).size).toBe(maxReplayLines);
    expect(truncated).toEqual([
      expect.objectContaining({ replayed: maxReplayLines, after: entry(maxReplayLines).cursor }),
    ]);
    expect(tokenCursor(String(truncated[0]?.nextToken))).toBe(entry(maxReplayLines).cursor);
    expect(await connections.get('c1')).toMatchObject({
      live: true,
      liveAfter: entry(maxReplayLines).cursor,
    });
  });

  it('forgets a connection that never opened, and sends nothing', async () => {
    const { live, connections, channel, preview, connected, logLines } = world();
    preview();
    await logLines('p1', [entry(1)]);
    await connected('c1', { buffer: 10 });
    channel.open.delete('c1');

    expect(await live.replay('c1')).toBe(0);
    expect(connections.ids()).toEqual([]);
    expect(channel.messagesTo('c1')).toEqual([]);
  });

  it('sends the status snapshot first: the status and health of the preview, as REST shows them', async () => {
    const { live, channel, preview, connected, logLines } = world();
    preview({
      status: 'degraded',
      statusReason: 'slow',
      health: {
        status: 'degraded',
        checks: [{ name: 'http', status: 'warning', message: 'slow' }],
        checkedAt: '2026-01-01T11:59:50.000Z',
        consecutiveFailures: 0,
      },
    });
    await logLines('p1', [entry(1)]);
    await connected('c1', { buffer: 10 });

    await live.replay('c1');

    expect(channel.received('c1').map((m) => m.type)).toEqual(['status', 'log']);
    expect(channel.received('c1')[0]).toEqual({
      type: 'status',
      timestamp: '2026-01-01T12:00:00.000Z',
      previewId: 'p1',
      status: 'degraded',
      statusReason: 'slow',
      expiresAt: null,
      health: {
        status: 'degraded',
        checks: [{ name: 'http', status: 'warning', message: 'slow', lastCheck: '2026-01-01T11:59:50.000Z' }],
      },
    });
  });

  it('sends status changes that happen during the replay: the connection gets them from its snapshot on', async () => {
    const { live, logs, channel, previews, preview, connected, logLines } = world();
    const record = preview({ status: 'running' });
    await logLines('p1', [entry(1)]);
    await connected('c1', { buffer: 10 });
    const tail = logs.tail.bind(logs);
    logs.tail = async (...args) => {
      const healthy = { ...record, status: 'healthy' as const };
      previews.put(healthy);
      await live.statusChanged(healthy);
      return tail(...args);
    };

    await live.replay('c1');

    expect(channel.received('c1').map((m) => [m.type, m.status])).toEqual([
      ['status', 'running'],
      ['status', 'healthy'],
      ['log', undefined],
    ]);
  });

  it('replays a connection only once', async () => {
    const { live, channel, preview, connected, logLines } = world();
    preview();
    await logLines('p1', [entry(1)]);
    await connected('c1', { buffer: 10 });

    await live.replay('c1');
    expect(await live.replay('c1')).toBe(0);
    expect(channel.received('c1').map((m) => m.type)).toEqual(['status', 'log']);
  });
});

describe('LiveConnections client actions', () => {
  it('replaces the filter on subscribe and echoes the active one; unsubscribe and ping answer too', async () => {
    const { live, clock, connections, channel, stored } = world();
    await stored({ connectionId: 'c1', filter: { level: 'WARN', search: 'earlier' } });

    await live.subscribe('c1', { level: 'ERROR', source: ['database'], search: 'timeout' });
    await live.subscribe('c1', { source: ['request'] });
    await live.unsubscribe('c1');
    clock.advance(1);
    await live.ping('c1');

    expect(await connections.get('c1')).toMatchObject({
      filter: { level: 'DEBUG', sources: ['request'] },
      subscribed: false,
    });
    expect((await connections.get('c1'))?.filter).not.toHaveProperty('search');
    expect(channel.received('c1')).toEqual([
      { type: 'subscribed', filters: { level: 'ERROR', source: ['database'], search: 'timeout' } },
      { type: 'subscribed', filters: { level: 'DEBUG', source: ['request'], search: null } },
      { type: 'unsubscribed' },
      { type: 'pong', timestamp: '2026-01-01T12:00:01.000Z' },
    ]);
  });

  it('answers 404 to an action of a connection it no longer knows', async () => {
    const { live, channel } = world();
    await expect(live.subscribe('gone', {})).rejects.toMatchObject({ code: 'not_found' });
    await expect(live.unsubscribe('gone')).rejects.toMatchObject({ code: 'not_found' });
    expect(channel.messagesTo('gone')).toEqual([]);
  });
});

describe('LiveConnections notifications', () => {
  const health = (status: PreviewHealth['status'], http: 'passing' | 'failing'): PreviewHealth => ({
    status,
    checks: [{ name: 'http', status: http }],
    checkedAt: '2026-01-01T12:00:00.000Z',
    consecutiveFailures: http === 'failing' ? 1 : 0,
  });

  it('closes the connections opened with a token a rotation replaced, telling them why, and keeps the others', async () => {
    const { live, connections, channel, stored, preview } = world();
    await stored({ connectionId: 'old', tokenHash: hashToken('old-token') });
    await stored({ connectionId: 'current' });

    await live.closeConnections(preview(), { cause: 'token_rotated' });

    expect(connections.ids()).toEqual(['current']);
    expect(channel.closed).toEqual(['old']);
    // A pointer to where to connect again, never the new token.
    expect(channel.received('old')).toEqual([
      {
        type: 'closing',
        code: 4003,
        reason: 'The preview token was rotated; get the current one with POST …/preview/token.',
        previewId: 'p1',
        wsUrl: 'ws://127.0.0.1:3000/api/generations/g1/preview/logs',
      },
    ]);
  });

  it('closes every connection of a finished preview, replaying or live, with the cause and no pointer', async () => {
    const { live, connections, channel, stored, preview } = world();
    await stored({ connectionId: 'live' });
    await stored({ connectionId: 'replaying', live: false });
    await stored({ connectionId: 'elsewhere', previewId: 'p2' });

    await live.closeConnections(preview({ status: 'stopped' }), { cause: 'preview_deleted' });

    expect(connections.ids()).toEqual(['elsewhere']);
    expect(channel.closed.sort()).toEqual(['live', 'replaying']);
    for (const id of ['live', 'replaying']) {
      expect(channel.received(id)).toEqual([
        { type: 'closing', code: 4002, reason: 'The preview was deleted.' },
      ]);
    }
  });

  it('points the connections of a restarted preview to the new one; a long reason fits a close frame', async () => {
    const { live, channel, stored, preview } = world();
    await stored({ connectionId: 'c1' });
    await stored({ connectionId: 'c2', previewId: 'p3' });

    await live.closeConnections(preview({ status: 'stopped' }), {
      cause: 'preview_restarted',
      successorPreviewId: 'p2',
    });
    await live.closeConnections(preview({ previewId: 'p3', status: 'stopped' }), {
      cause: 'preview_stopped',
      detail: `storage_limit: ${'é'.repeat(200)}`,
    });

    expect(channel.received('c1')).toEqual([
      expect.objectContaining({ code: 4004, previewId: 'p2', wsUrl: expect.stringContaining('/g1/') }),
    ]);
    const [stopped] = channel.received('c2');
    expect(stopped).toMatchObject({ code: 4001 });
    expect(stopped).not.toHaveProperty('wsUrl');
    expect(Buffer.byteLength(String(stopped?.reason))).toBeLessThanOrEqual(123);
    expect(String(stopped?.reason)).toMatch(/^The preview stopped \(storage_limit: é+\.\.\.$/);
  });

  it('refuses a connection whose preview finished while it was being admitted', async () => {
    const { live, connections, previews, preview } = world();
    const record = preview();
    const get = previews.get.bind(previews);
    let reads = 0;
    // The stop lands between the token check and the admission.
    previews.get = async (...args) => {
      reads += 1;
      return reads === 1 ? get(...args) : { ...record, status: 'stopped' };
    };

    await expect(live.connect('c1', { token, buffer: 0 })).rejects.toMatchObject({ code: 'forbidden' });
    expect(connections.ids()).toEqual([]);
  });

  it('sends status changes to the connections of the preview whose snapshot was sent only', async () => {
    const { live, channel, stored, preview } = world();
    await stored({ connectionId: 'live' });
    await stored({ connectionId: 'snapshot-sent', live: false, opened: true });
    await stored({ connectionId: 'replaying', live: false });
    await stored({ connectionId: 'elsewhere', previewId: 'p2' });

    await live.statusChanged(preview({ status: 'degraded', statusReason: 'slow' }));

    for (const id of ['live', 'snapshot-sent']) {
      expect(channel.received(id)).toEqual([
        expect.objectContaining({ type: 'status', status: 'degraded', statusReason: 'slow' }),
      ]);
    }
    expect(channel.messagesTo('replaying')).toEqual([]);
    expect(channel.messagesTo('elsewhere')).toEqual([]);
  });

  it('sends a health message when a check changed, and none when nothing did', async () => {
    const { live, channel, stored } = world();
    await stored({ connectionId: 'c1' });

    await live.healthChecked('p1', health('healthy', 'passing'), health('healthy', 'passing'));
    await live.healthChecked('p1', health('unhealthy', 'failing'), health('healthy', 'passing'));

    expect(channel.received('c1')).toEqual([
      expect.objectContaining({
        type: 'health',
        status: 'unhealthy',
        changes: [expect.objectContaining({ name: 'http', status: 'failing' })],
      }),
    ]);
  });

  it("sends a metric message with the resource sample and the last full minute's requests", async () => {
    const { live, channel, metrics, stored } = world();
    await stored({ connectionId: 'c1' });
    const lastMinute = new Date('2026-01-01T12:00:30.000Z');
    for (const bucket of bucketsOf([
      { at: lastMinute, statusCode: 200, durationMs: 5, bytesIn: 0, bytesOut: 0 },
      { at: lastMinute, statusCode: 500, durationMs: 5, bytesIn: 0, bytesOut: 0 },
    ]))
      await metrics.addRequests('p1', bucket);

    await live.resourcesSampled('p1', {
      at: '2026-01-01T12:01:10.000Z',
      memoryUsedBytes: 64 * 1024 * 1024,
      memoryLimitBytes: 1024 ** 3,
      cpuCores: 0.1234,
      networkRxBytes: 0,
      networkTxBytes: 0,
    });

    expect(channel.received('c1')).toEqual([
      {
        type: 'metric',
        timestamp: '2026-01-01T12:01:10.000Z',
        metric: 'resource_usage',
        data: { memory: 64, cpu: 0.123, requests_per_minute: 2, error_rate: 50 },
      },
    ]);
  });

  it('tells the connections how long the session has left', async () => {
    const { live, channel, stored, preview } = world();
    preview({ expiresAt: '2026-01-01T12:05:00.000Z' });
    await stored({ connectionId: 'c1' });

    await live.expiring('p1', 300);

    expect(channel.received('c1')).toEqual([
      expect.objectContaining({
        type: 'status',
        expiresAt: '2026-01-01T12:05:00.000Z',
        expiresInSeconds: 300,
      }),
    ]);
  });

  it('never fails what caused a notification: a store error is reported instead', async () => {
    const { live, connections, errors, preview } = world();
    connections.byPreview = async () => {
      throw new Error('the table is away');
    };

    await expect(live.statusChanged(preview())).resolves.toBeUndefined();
    await expect(live.closeConnections(preview(), { cause: 'token_rotated' })).resolves.toBeUndefined();

    expect(errors).toEqual(['status message for p1', 'closing connections of p1 (token_rotated)']);
  });
});
