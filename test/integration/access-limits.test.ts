import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { dynamoDocumentClient } from '#adapters/aws/clients.js';
import { DynamoDbConnectionStore } from '#adapters/aws/dynamodb-connection-store.js';
import { parseGenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';
import { maxReplayLines } from '#core/services/live-connections.js';
import { services } from '#handlers/services.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { rateLimitedCloseCode } from '#local/websocket-api.js';
import { LiveClient } from '../support/live-client.js';
import { RecordingStarter } from '../support/preview-service.js';

const secret = 'access-limits-secret-access-limits-secret';
const maxConnections = 3;
const requestsPerSecond = 5;
const requestBurst = 20;
let runtime: LocalRuntime;
const clients: LiveClient[] = [];

/**
 * Generations as the SaaS stores them: `of-<user>-…` belongs to that user, `unowned-…` names no
 * owner, `missing-…` does not exist.
 */
const ownedGenerations: GenerationStore = {
  async load(generationId) {
    if (generationId.startsWith('missing-')) return undefined;
    const owner = /^of-([a-z]+)-/.exec(generationId)?.[1];
    const manifest = {
      id: generationId,
      projectId: 'proj-1',
      dbType: 'none',
      entryPoint: 'uvicorn app.main:app',
      ...(owner ? { ownerId: owner } : {}),
    };
    return parseGenerationSource(
      generationId,
      new Map([
        ['generation.json', Buffer.from(JSON.stringify(manifest))],
        ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
      ]),
    );
  },
};

beforeAll(async () => {
  Object.assign(process.env, {
    PREVIEW_JWT_SECRET: secret,
    PREVIEW_RESOURCE_TIER_PRO: '{"maxConcurrentPreviews": 50}',
    PREVIEW_MAX_CONNECTIONS_PER_PREVIEW: String(maxConnections),
    PREVIEW_RATE_LIMIT_PER_SECOND: String(requestsPerSecond),
    PREVIEW_RATE_LIMIT_BURST: String(requestBurst),
  });
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations: ownedGenerations },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await runtime?.close();
  for (const name of [
    'PREVIEW_MAX_CONNECTIONS_PER_PREVIEW',
    'PREVIEW_RATE_LIMIT_PER_SECOND',
    'PREVIEW_RATE_LIMIT_BURST',
  ])
    delete process.env[name];
});

const tokens = new Map<string, Promise<string>>();
function tokenOf(user: string): Promise<string> {
  let token = tokens.get(user);
  if (!token) tokens.set(user, (token = mintToken(secret, user, 'pro')));
  return token;
}

async function call(method: string, path: string, options: { user?: string; token?: string } = {}) {
  const token = options.token ?? (await tokenOf(options.user ?? 'alice'));
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    body: method === 'POST' ? '{}' : undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    // Bodies are read field by field.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    json: JSON.parse(text || 'null') as any,
  };
}

interface Launched {
  readonly previewId: string;
  readonly token: string;
  readonly wsUrl: string;
}

async function launch(generationId: string, user = 'alice'): Promise<Launched> {
  const { status, json } = await call('POST', `/api/generations/${generationId}/preview/launch`, { user });
  expect(status).toBe(202);
  return { previewId: json.previewInstanceId, token: json.previewToken, wsUrl: json.wsUrl };
}

interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A client of the live stream, and how its connection ended once it has. */
async function connect(preview: Launched, query = '', token = preview.token) {
  const client = await LiveClient.connect(`${preview.wsUrl}?token=${encodeURIComponent(token)}${query}`);
  clients.push(client);
  const closed = new Promise<Closed>((resolve) =>
    client.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { client, closed };
}

async function refusal(url: string) {
  try {
    clients.push(await LiveClient.connect(url));
  } catch (error) {
    return error as { status: number; body: string };
  }
  throw new Error(`${url} was not refused`);
}

/** The status, Retry-After and body of a handshake the gateway refuses. */
function refusedHandshake(url: string) {
  const socket = new WebSocket(url);
  return new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
    socket.once('open', () => {
      socket.close();
      reject(new Error(`${url} was accepted`));
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode ?? 0, retryAfter, body });
      });
    });
    socket.once('error', () => undefined);
  });
}

async function untilLive(preview: Launched, count: number): Promise<void> {
  const store = new DynamoDbConnectionStore(dynamoDocumentClient(), services().config.tables.connections);
  for (let i = 0; i < 200; i += 1) {
    const connections = await store.byPreview(preview.previewId);
    if (connections.length === count && connections.every((c) => c.live)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the connections of ${preview.previewId} never turned live`);
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);

describe('bearer tokens at the local gateway', () => {
  it('refuses a token without exp, and one that has expired', async () => {
    const key = new TextEncoder().encode(secret);
    const noExpiry = await new SignJWT({ tier: 'pro' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt()
      .sign(key);
    const expired = await new SignJWT({ tier: 'pro' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 1)
      .sign(key);
    for (const token of [noExpiry, expired]) {
      const answer = await call('GET', '/api/previews', { token });
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe('unauthorized');
    }
    expect((await call('GET', '/api/previews', { user: 'alice' })).status).toBe(200);
  });
});

describe('generations belong to their owner', () => {
  it("answers someone else's generation exactly as a missing one", async () => {
    const missing = await call('POST', '/api/generations/missing-app/preview/launch', { user: 'bob' });
    expect(missing.status).toBe(404);
    const foreign = await call('POST', '/api/generations/of-alice-app/preview/launch', { user: 'bob' });
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(missing.text.replace('missing-app', 'of-alice-app'));
    expect(foreign.json).toEqual({
      error: { code: 'not_found', message: 'Generation of-alice-app was not found.' },
    });
    expect((await launch('of-alice-app', 'alice')).previewId).toMatch(/\S/);
  });

  it('launches a generation without an owner where that is allowed (locally, by default)', async () => {
    expect(services().config.allowUnownedGenerations).toBe(true);
    expect((await launch('unowned-app', 'bob')).previewId).toMatch(/\S/);
  });
});

describe('rotating a preview token', () => {
  it("closes the old token's connections at once, with a reason; the new token connects", async () => {
    const preview = await launch('of-alice-rotate');
    const first = await connect(preview);
    const second = await connect(preview);
    await untilLive(preview, 2);
    const started = performance.now();
    const rotated = await call('POST', '/api/generations/of-alice-rotate/preview/token');
    expect(rotated.status).toBe(200);
    for (const { client, closed } of [first, second]) {
      // Generous bounds for a loaded machine; the time it took is printed.
      const reason = 'The preview token was rotated; get the current one with POST …/preview/token.';
      expect(await within(closed, 5000, 'close after rotation')).toEqual({ code: 4003, reason });
      // Where to go on, but not the new token.
      expect(client.received.at(-1)).toEqual({
        type: 'closing',
        code: 4003,
        reason,
        previewId: preview.previewId,
        wsUrl: preview.wsUrl,
      });
    }
    console.log(`connections closed ${Math.round(performance.now() - started)} ms after the rotation`);
    expect((await refusal(`${preview.wsUrl}?token=${preview.token}`)).status).toBe(401);
    // The proxy refuses the old token at once; the new one passes (the preview is not running here).
    const proxied = async (previewToken: string) =>
      (
        await fetch(`${runtime.url}/api/generations/of-alice-rotate/preview/proxy/health`, {
          headers: { authorization: `Bearer ${await tokenOf('alice')}`, 'x-preview-token': previewToken },
        })
      ).status;
    expect(await proxied(preview.token)).toBe(403);
    expect(await proxied(rotated.json.previewToken as string)).toBe(409);
    const current = { ...preview, token: rotated.json.previewToken as string };
    const fresh = await connect(current);
    await untilLive(current, 1);
    fresh.client.send({ action: 'ping' });
    await fresh.client.next('pong');
    expect(fresh.client.socket.readyState).toBe(fresh.client.socket.OPEN);
  });
});

describe('limits', () => {
  it(`accepts ${maxConnections} connections per preview; one more answers 429 with Retry-After`, async () => {
    const preview = await launch('of-alice-crowd');
    // A connection whose `$disconnect` was lost (a gateway crash) holds no place once it is found closed.
    const store = new DynamoDbConnectionStore(dynamoDocumentClient(), services().config.tables.connections);
    await store.put({
      connectionId: 'lost-disconnect=',
      previewId: preview.previewId,
      userId: 'alice',
      generationId: 'of-alice-crowd',
      connectedAt: new Date(Date.now() - 60_000).toISOString(),
      filter: { level: 'DEBUG' },
      subscribed: true,
      replay: { buffer: 0 },
      live: true,
    });
    const open = [];
    for (let i = 0; i < maxConnections; i += 1) open.push(await connect(preview));
    const refused = await refusedHandshake(`${preview.wsUrl}?token=${preview.token}`);
    expect((await store.byPreview(preview.previewId)).map((c) => c.connectionId)).not.toContain(
      'lost-disconnect=',
    );
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'rate_limited', details: { limit: 3 } });
    await open[0]?.client.close();
    await untilLive(preview, maxConnections - 1);
    await connect(preview);
  });

  it('closes a connection that sends more messages a second than allowed, with 4429 and a reason', async () => {
    const preview = await launch('of-alice-chatty');
    const { client, closed } = await connect(preview);
    const perSecond = services().config.limits.messagesPerSecond;
    expect(perSecond).toBe(20);
    for (let i = 0; i < perSecond * 3; i += 1) client.send({ action: 'ping' });
    expect(await within(closed, 5000, 'close of a chatty connection')).toEqual({
      code: rateLimitedCloseCode,
      reason: 'rate_limited: more than 20 messages a second',
    });
    // A connection within the limit is left alone.
    const calm = await connect(preview);
    for (let i = 0; i < 5; i += 1) calm.client.send({ action: 'ping' });
    await calm.client.until((all) => all.filter((m) => m.type === 'pong').length === 5);
    expect(calm.client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it(`replays at most ${maxReplayLines} lines after a cursor, then says truncated and where to go on`, async () => {
    const preview = await launch('of-alice-replay');
    const first = await connect(preview);
    await untilLive(preview, 1);
    runtime.logs.processLine(preview.previewId, 'app', 'line 0');
    const cursor = (await first.client.next('log')).cursor as string;
    await first.client.close();
    const total = maxReplayLines + 50;
    for (let n = 1; n <= total; n += 1) runtime.logs.processLine(preview.previewId, 'app', `line ${n}`);
    await runtime.logs.pipeline.flush();
    const { client } = await connect(preview, `&after=${encodeURIComponent(cursor)}`);
    const truncated = await client.next('truncated', 0, 60_000);
    const logs = client.logs;
    expect(logs).toHaveLength(maxReplayLines);
    expect(logs[0]?.message).toBe('line 1');
    expect(logs.at(-1)?.message).toBe(`line ${maxReplayLines}`);
    expect(truncated).toEqual({
      type: 'truncated',
      replayed: maxReplayLines,
      message: `More than ${maxReplayLines} lines to replay; GET …/preview/logs?nextToken=… has the rest.`,
      after: logs.at(-1)?.cursor,
      nextToken: expect.any(String),
    });
    const rest = await call(
      'GET',
      `/api/generations/of-alice-replay/preview/logs?limit=100&nextToken=${encodeURIComponent(String(truncated.nextToken))}`,
    );
    expect(rest.status).toBe(200);
    expect(rest.json.logs.map((l: { message: string }) => l.message)).toEqual(
      Array.from({ length: 50 }, (_, i) => `line ${maxReplayLines + 1 + i}`),
    );
  });

  it(`refuses a user's requests beyond ${requestBurst} at once with 429 and Retry-After; others go on`, async () => {
    await tokenOf('carol');
    const answers = await Promise.all(
      Array.from({ length: requestBurst + 10 }, () => call('GET', '/api/previews', { user: 'carol' })),
    );
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(requestBurst);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answer.json).toEqual({
        error: {
          code: 'rate_limited',
          message: `Too many requests: at most ${requestsPerSecond} a second (bursts of ${requestBurst}); try again later.`,
          details: { requestsPerSecond, burst: requestBurst },
        },
      });
    }
    expect((await call('GET', '/api/previews', { user: 'dave' })).status).toBe(200);
  });
});
