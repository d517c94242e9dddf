import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiGatewayConnectionChannel } from '#adapters/aws/api-gateway-connection-channel.js';
import { apiGatewayManagement, dynamoDocumentClient } from '#adapters/aws/clients.js';
import { DynamoDbConnectionStore } from '#adapters/aws/dynamodb-connection-store.js';
import { taskLogStream } from '#core/log-streams.js';
import { services } from '#handlers/services.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { LiveClient, type Received } from '../support/live-client.js';
import { anyGeneration, RecordingStarter } from '../support/preview-service.js';

const secret = 'live-logs-secret-live-logs-secret';
let runtime: LocalRuntime;
let alice: string;
let bob: string;
const clients: LiveClient[] = [];

interface Launched {
  readonly previewId: string;
  readonly token: string;
  readonly wsUrl: string;
}

beforeAll(async () => {
  process.env.PREVIEW_JWT_SECRET = secret;
  process.env.PREVIEW_RESOURCE_TIER_PRO = '{"maxConcurrentPreviews": 50}';
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations: anyGeneration },
  });
  alice = await mintToken(secret, 'alice', 'pro');
  bob = await mintToken(secret, 'bob', 'pro');
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await runtime?.close();
});

async function call(method: string, path: string, token = alice) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    body: method === 'POST' ? '{}' : undefined,
    redirect: 'manual',
  });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

const json = async (method: string, path: string, token = alice) => {
  const result = await call(method, path, token);
  // Bodies are read field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { ...result, json: JSON.parse(result.body.toString('utf8') || 'null') as any };
};

/** A preview that never runs (the starter only records): its token and its log are what matter. */
async function launch(generationId: string): Promise<Launched> {
  const { status, json: body } = await json('POST', `/api/generations/${generationId}/preview/launch`);
  expect(status).toBe(202);
  return { previewId: body.previewInstanceId, token: body.previewToken, wsUrl: body.wsUrl };
}

async function connect(preview: Launched, query = ''): Promise<LiveClient> {
  const client = await LiveClient.connect(
    `${preview.wsUrl}?token=${encodeURIComponent(preview.token)}${query}`,
  );
  clients.push(client);
  return client;
}

/** A line as the preview's app container prints it. */
function print(preview: Launched, line: string): void {
  runtime.logs.processLine(preview.previewId, 'app', line);
}

const request = (n: number, status = 200) =>
  JSON.stringify({
    level: status >= 500 ? 'ERROR' : status >= 400 ? 'WARN' : 'INFO',
    source: 'request',
    message: `GET /items/${n} ${status}`,
    metadata: { method: 'GET', path: `/items/${n}`, statusCode: status, n },
  });

/** Waits until the preview's connections get live messages (their replay is done). */
async function untilLive(preview: Launched): Promise<void> {
  const store = new DynamoDbConnectionStore(dynamoDocumentClient(), services().config.tables.connections);
  for (let i = 0; i < 100; i += 1) {
    const connections = await store.byPreview(preview.previewId);
    if (connections.length > 0 && connections.every((c) => c.live)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the connections of ${preview.previewId} never turned live`);
}

const messages = (received: readonly Received[]) =>
  received.filter((m) => m.type === 'log').map((m) => m.message);

async function refusal(url: string): Promise<{ status: number; body: string }> {
  try {
    clients.push(await LiveClient.connect(url));
  } catch (error) {
    return error as { status: number; body: string };
  }
  throw new Error(`${url} was not refused`);
}

describe('the live log stream, through the local WebSocket API', () => {
  it('refuses a missing, wrong or stale token at the handshake, in the error shape', async () => {
    const preview = await launch('ws-auth');
    const missing = await refusal(preview.wsUrl);
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body)).toEqual({
      error: { code: 'unauthorized', message: 'A preview token is required (?token=).' },
    });
    expect((await refusal(`${preview.wsUrl}?token=pvt_not-the-token`)).status).toBe(401);
    const other = await launch('ws-auth-other');
    const wrongGeneration = await refusal(`${preview.wsUrl}?token=${other.token}`);
    expect(wrongGeneration.status).toBe(403);
    expect(JSON.parse(wrongGeneration.body).error.message).toMatch(/not for generation ws-auth/);
    expect((await refusal(`${preview.wsUrl}?token=${preview.token}&level=LOUD`)).status).toBe(400);
    await json('DELETE', '/api/generations/ws-auth/preview');
    const ended = await refusal(`${preview.wsUrl}?token=${preview.token}`);
    expect(ended.status).toBe(403);
    expect(JSON.parse(ended.body).error.message).toMatch(/stopped/);
  });

  it("sends the preview's lines as they are printed, parsed, in order, each with a cursor", async () => {
    const preview = await launch('ws-lines');
    const client = await connect(preview);
    for (let n = 0; n < 50; n += 1) print(preview, n % 10 === 0 ? `plain line ${n}` : request(n));
    await client.until((all) => all.filter((m) => m.type === 'log').length === 50);
    expect(messages(client.received)).toEqual(
      Array.from({ length: 50 }, (_, n) => (n % 10 === 0 ? `plain line ${n}` : `GET /items/${n} 200`)),
    );
    expect(client.logs[1]).toEqual({
      type: 'log',
      timestamp: expect.any(String),
      level: 'INFO',
      source: 'request',
      message: 'GET /items/1 200',
      metadata: { method: 'GET', path: '/items/1', statusCode: 200, n: 1 },
      cursor: expect.stringMatching(/^\d+-\d+$/),
    });
  });

  it('with level=ERROR sends only errors; subscribe changes the filters, unsubscribe stops the lines', async () => {
    const preview = await launch('ws-filters');
    const errors = await connect(preview, '&level=ERROR');
    const all = await connect(preview);
    for (let n = 0; n < 30; n += 1) print(preview, request(n, [200, 404, 500][n % 3]));
    await all.until((received) => received.filter((m) => m.type === 'log').length === 30);
    await errors.until((received) => received.filter((m) => m.type === 'log').length === 10);
    expect(errors.logs.every((m) => m.level === 'ERROR')).toBe(true);

    const before = all.received.length;
    all.send({ action: 'subscribe', filters: { level: 'WARN', source: ['request'], search: 'ITEMS/4' } });
    expect(await all.next('subscribed', before)).toEqual({
      type: 'subscribed',
      filters: { level: 'WARN', source: ['request'], search: 'ITEMS/4' },
    });
    for (const n of [40, 41, 42, 43, 50]) print(preview, request(n, n === 40 ? 200 : 500));
    print(preview, 'ITEMS/4 in a plain line, from the system');
    await all.until((received) => messages(received.slice(before)).length === 3);
    expect(messages(all.received.slice(before))).toEqual([
      'GET /items/41 500',
      'GET /items/42 500',
      'GET /items/43 500',
    ]);

    const unsubscribed = all.received.length;
    all.send({ action: 'unsubscribe' });
    await all.next('unsubscribed', unsubscribed);
    print(preview, request(44, 500));
    await errors.until((received) => messages(received).includes('GET /items/44 500'));
    expect(messages(all.received.slice(unsubscribed))).toEqual([]);
  });

  it('answers ping, and explains what is wrong with a message', async () => {
    const preview = await launch('ws-actions');
    const client = await connect(preview);
    client.send({ action: 'ping' });
    expect(await client.next('pong')).toEqual({ type: 'pong', timestamp: expect.any(String) });
    let from = client.received.length;
    client.send({ action: 'dance' });
    expect(await client.next('error', from)).toEqual({
      type: 'error',
      error: {
        code: 'bad_request',
        message: '"dance" is not an action; send {"action": "subscribe" | "unsubscribe" | "ping"}.',
      },
    });
    from = client.received.length;
    client.send('not json');
    expect((await client.next('error', from)).error).toMatchObject({ code: 'bad_request' });
    from = client.received.length;
    client.send({ action: 'subscribe', filters: { level: 'LOUD' } });
    expect((await client.next('error', from)).error).toMatchObject({
      code: 'validation_failed',
      details: { fields: [{ field: 'body.filters.level', message: expect.any(String) }] },
    });
  });

  it('replays the last N lines (buffer=N), then goes on live without a gap', async () => {
    const preview = await launch('ws-buffer');
    for (let n = 0; n < 20; n += 1) print(preview, request(n));
    await runtime.logs.pipeline.flush();
    const client = await connect(preview, '&buffer=5');
    print(preview, request(20));
    await client.until((all) => messages(all).length === 6);
    expect(messages(client.received)).toEqual([15, 16, 17, 18, 19, 20].map((n) => `GET /items/${n} 200`));
  });

  it('resumes after a cursor: every line exactly once across a disconnect, while lines keep coming', async () => {
    const preview = await launch('ws-resume');
    const first = await connect(preview);
    await untilLive(preview);
    const written: string[] = [];
    let n = 0;
    const writer = setInterval(() => {
      for (let i = 0; i < 3; i += 1) {
        written.push(`GET /items/${n} 200`);
        print(preview, request(n));
        n += 1;
      }
    }, 2);
    try {
      await first.until((all) => messages(all).length >= 100);
      await first.close();
      const lastCursor = first.logs.at(-1)?.cursor as string;
      // Lines keep coming while nobody listens.
      const missed = n;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(n).toBeGreaterThan(missed);
      const second = await connect(preview, `&after=${lastCursor}`);
      await second.until((all) => messages(all).length >= 100);
      clearInterval(writer);
      await runtime.logs.pipeline.flush();
      await second.until((all) => messages(all).at(-1) === written.at(-1));
      const seen = [...messages(first.received), ...messages(second.received)];
      expect(seen).toEqual(written.slice(0, seen.length));
      expect(seen).toHaveLength(written.length);
      const cursors = [...first.logs, ...second.logs].map((m) => m.cursor as string);
      expect(new Set(cursors).size).toBe(cursors.length);
    } finally {
      clearInterval(writer);
    }
  });

  it('forgets a closed connection', async () => {
    const preview = await launch('ws-disconnect');
    const client = await connect(preview);
    const store = new DynamoDbConnectionStore(dynamoDocumentClient(), services().config.tables.connections);
    expect(await store.byPreview(preview.previewId)).toHaveLength(1);
    await client.close();
    for (let i = 0; i < 50 && (await store.byPreview(preview.previewId)).length > 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await store.byPreview(preview.previewId)).toEqual([]);
  });

  it("answers @connections alike over HTTP (API Gateway's client) and in process", async () => {
    const preview = await launch('ws-connections');
    const store = new DynamoDbConnectionStore(dynamoDocumentClient(), services().config.tables.connections);
    const channels = [
      new ApiGatewayConnectionChannel(apiGatewayManagement(runtime.url, 4)),
      runtime.logs.webSocketApi.channel,
    ];
    for (const [i, channel] of channels.entries()) {
      const client = await connect(preview);
      await untilLive(preview);
      const [{ connectionId } = { connectionId: '' }] = await store.byPreview(preview.previewId);
      expect(await channel.isOpen(connectionId)).toBe(true);
      expect(await channel.send(connectionId, JSON.stringify({ type: 'pong', n: i }))).toBe(true);
      await client.until((received) => received.some((m) => m.type === 'pong' && m.n === i));
      await expect(channel.send(connectionId, 'x'.repeat(128 * 1024 + 1))).rejects.toMatchObject({
        name: 'PayloadTooLargeException',
      });
      const closed = new Promise<number>((resolve) => client.socket.once('close', resolve));
      await channel.close(connectionId);
      expect(await closed).toBe(4000);
      expect(await channel.isOpen(connectionId)).toBe(false);
      expect(await channel.send(connectionId, '{"type":"pong"}')).toBe(false);
      await channel.close(connectionId);
      for (let n = 0; n < 50 && (await store.byPreview(preview.previewId)).length > 0; n += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });

  it('pushes status changes, metric samples and health checks to the connections', async () => {
    const preview = await launch('ws-status');
    const client = await connect(preview);
    await untilLive(preview);
    const live = services().logs?.live;
    await live?.resourcesSampled(preview.previewId, {
      at: new Date().toISOString(),
      memoryUsedBytes: 100 * 1024 * 1024,
      memoryLimitBytes: 1024 * 1024 * 1024,
      cpuCores: 0.25,
      networkRxBytes: 0,
      networkTxBytes: 0,
    });
    expect(await client.next('metric', 0)).toEqual({
      type: 'metric',
      timestamp: expect.any(String),
      metric: 'resource_usage',
      data: { memory: 100, cpu: 0.25, requests_per_minute: 0, error_rate: 0 },
    });
    await live?.healthChecked(
      preview.previewId,
      {
        status: 'healthy',
        checkedAt: new Date().toISOString(),
        consecutiveFailures: 0,
        checks: [{ name: 'http', status: 'passing' }],
      },
      undefined,
    );
    expect(await client.next('health', 0)).toMatchObject({
      type: 'health',
      status: 'healthy',
      changes: [{ name: 'http', status: 'passing', message: 'passing' }],
    });
    const from = client.received.length;
    await json('DELETE', '/api/generations/ws-status/preview');
    await client.until((all) => all.slice(from).filter((m) => m.type === 'status').length === 2);
    expect(client.received.slice(from).filter((m) => m.type === 'status')).toEqual([
      {
        type: 'status',
        timestamp: expect.any(String),
        previewId: preview.previewId,
        status: 'stopping',
        statusReason: 'stopped by user',
        expiresAt: null,
        health: { status: 'unknown', checks: [] },
      },
      {
        type: 'status',
        timestamp: expect.any(String),
        previewId: preview.previewId,
        status: 'stopped',
        statusReason: 'stopped by user',
        expiresAt: null,
        health: { status: 'unknown', checks: [] },
      },
    ]);
  });
});

describe('log queries and exports', () => {
  let preview: Launched;
  const path = '/api/generations/ws-query/preview/logs';

  beforeAll(async () => {
    preview = await launch('ws-query');
    for (let n = 0; n < 120; n += 1) print(preview, request(n, [200, 404, 500][n % 3]));
    print(preview, '2025-10-20 12:00:00 UTC [1] LOG: database system is ready, via postgres');
    await runtime.logs.pipeline.flush();
  });

  it('filters by level, sources (a comma-separated list) and text, and pages with nextToken', async () => {
    const first = await json('GET', `${path}?level=WARN&source=request,database&limit=30`);
    expect(first.status).toBe(200);
    expect(first.json.previewInstanceId).toBe(preview.previewId);
    expect(first.json.logs).toHaveLength(30);
    expect(first.json.logs.every((l: Received) => l.level !== 'INFO')).toBe(true);
    const pages = [first.json];
    while (pages.at(-1).nextToken) {
      pages.push(
        (
          await json(
            'GET',
            `${path}?level=WARN&source=request,database&limit=30&nextToken=${pages.at(-1).nextToken}`,
          )
        ).json,
      );
    }
    const all = pages.flatMap((p) => p.logs);
    expect(all).toHaveLength(80);
    expect(new Set(all.map((l: Received) => l.cursor)).size).toBe(80);
    const found = await json('GET', `${path}?search=ITEMS/11&source=request`);
    expect(found.json.logs.map((l: Received) => l.message)).toEqual(
      [11, ...Array.from({ length: 10 }, (_, i) => 110 + i)].map(
        (n) => `GET /items/${n} ${[200, 404, 500][n % 3]}`,
      ),
    );
    const database = await json('GET', `${path}?source=database`);
    expect(database.json.logs.map((l: Received) => l.source)).toEqual(['database']);
    const future = await json(
      'GET',
      `${path}?start=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.json.logs).toEqual([]);
  });

  it('refuses what it cannot read, and what is not yours', async () => {
    expect((await json('GET', `${path}?nextToken=bm9wZQ`)).json.error.code).toBe('validation_failed');
    expect((await json('GET', `${path}?source=request,nonsense`)).status).toBe(400);
    expect((await json('GET', `${path}?start=2025-10-20T12:00:00Z&end=2025-10-20T11:00:00Z`)).status).toBe(
      400,
    );
    expect((await json('GET', path, bob)).status).toBe(404);
  });

  it('exports JSON, CSV and gzip, with the same filters', async () => {
    const asJson = await call('GET', `${path}/export?format=json&level=ERROR`);
    expect(asJson.status).toBe(200);
    expect(asJson.headers.get('content-type')).toBe('application/json');
    expect(asJson.headers.get('content-disposition')).toBe('attachment; filename="ws-query-logs.json"');
    const exported = JSON.parse(asJson.body.toString('utf8')) as Received[];
    expect(exported).toHaveLength(40);
    expect(exported.every((l) => l.level === 'ERROR')).toBe(true);

    const csv = await call('GET', `${path}/export?format=csv&search=items/1`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = csv.body.toString('utf8').trim().split('\r\n');
    expect(rows[0]).toBe('timestamp,level,source,message,metadata,cursor');
    expect(rows).toHaveLength(1 + 31);

    const gzip = await call('GET', `${path}/export?format=gzip`);
    expect(gzip.headers.get('content-type')).toBe('application/gzip');
    expect(JSON.parse(gunzipSync(gzip.body).toString('utf8'))).toHaveLength(121);
  });

  it('answers a large export with a 303 to a download that streams the file', async () => {
    const large = await launch('ws-large-export');
    const padding = 'p'.repeat(200);
    for (let n = 0; n < 25_000; n += 1) print(large, `line ${n} ${padding}`);
    await runtime.logs.pipeline.flush();
    const answer = await json('GET', '/api/generations/ws-large-export/preview/logs/export?format=csv');
    expect(answer.status).toBe(303);
    const location = answer.headers.get('location') as string;
    expect(location).toMatch(
      new RegExp(`^${runtime.url}/local-exports/[0-9a-f]{32}-ws-large-export-logs\\.csv$`),
    );
    expect(answer.json).toEqual({ url: location, expiresAt: expect.any(String), bytes: expect.any(Number) });
    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(
      'attachment; filename="ws-large-export-logs.csv"',
    );
    const text = await download.text();
    expect(Buffer.byteLength(text)).toBe(answer.json.bytes);
    expect(text.trim().split('\r\n')).toHaveLength(25_001);
    expect(
      (await fetch(`${runtime.url}/local-exports/0123456789abcdef0123456789abcdef-nothing.csv`)).status,
    ).toBe(404);
  }, 60_000);

  it("keeps a stopped preview's logs for queries and exports", async () => {
    const before = await json('GET', `${path}?limit=1000`);
    await json('DELETE', '/api/generations/ws-query/preview');
    const after = await json('GET', `${path}?limit=1000`);
    expect(after.status).toBe(200);
    expect(after.json.logs).toHaveLength(121);
    expect(after.json.logs).toEqual(before.json.logs);
    expect((await call('GET', `${path}/export?format=csv`)).status).toBe(200);
  });
});

describe('secrets printed by an app', () => {
  const password = 'Zx9-q_LmN0pQrStUvWxYz12';
  const printed = [
    `connecting to postgresql://preview:s3cr3t-url-pass@localhost:5432/app`,
    `sending Authorization: Bearer abcdef0123456789abcdef`,
    `aws key AKIAIOSFODNN7EXAMPLE in use`,
    `login password=hunter2-hunter2 user=bob`,
    `GET /reset?token=t0k3n-t0k3n-t0k3n&next=/`,
    `client_secret: s3cr3t-s3cr3t`,
    JSON.stringify({
      level: 'INFO',
      message: 'settings',
      metadata: { apiKey: 'k3y-k3y-k3y', password: 12345678 },
    }),
    `the database password is ${password}`,
  ];
  const secrets = [
    's3cr3t-url-pass',
    'abcdef0123456789abcdef',
    'AKIAIOSFODNN7EXAMPLE',
    'hunter2-hunter2',
    't0k3n-t0k3n-t0k3n',
    's3cr3t-s3cr3t',
    'k3y-k3y-k3y',
    '12345678',
    password,
  ];

  it('never reach a client, a query result or an export', async () => {
    const preview = await launch('ws-secrets');
    const client = await connect(preview);
    // The task's own secrets come from its environment, as the Docker follower reads them.
    runtime.logs.sources.register('task-1', { previewId: preview.previewId, secrets: [password] });
    for (const line of printed)
      runtime.logs.pipeline.write(preview.previewId, taskLogStream('app', 'task-1'), line);
    await client.until((all) => messages(all).length === printed.length);
    const answers = [
      JSON.stringify(client.received),
      (await call('GET', '/api/generations/ws-secrets/preview/logs')).body.toString('utf8'),
      (await call('GET', '/api/generations/ws-secrets/preview/logs/export?format=json')).body.toString(
        'utf8',
      ),
      (await call('GET', '/api/generations/ws-secrets/preview/logs/export?format=csv')).body.toString('utf8'),
      gunzipSync(
        (await call('GET', '/api/generations/ws-secrets/preview/logs/export?format=gzip')).body,
      ).toString('utf8'),
    ];
    for (const answer of answers) {
      expect(answer).toContain('***');
      for (const value of secrets) expect(answer).not.toContain(value);
    }
    expect(messages(client.received)).toEqual([
      'connecting to postgresql://preview:***@localhost:5432/app',
      'sending Authorization: Bearer ***',
      'aws key *** in use',
      'login password=*** user=bob',
      'GET /reset?token=***&next=/',
      'client_secret: ***',
      'settings',
      'the database password is ***',
    ]);
    expect(client.logs[6]?.metadata).toEqual({ apiKey: '***', password: '***' });
  });
});
