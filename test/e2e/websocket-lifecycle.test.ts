import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { LiveClient, type Received } from '../support/live-client.js';
import { anyGeneration, RecordingStarter } from '../support/preview-service.js';

const secret = 'websocket-lifecycle-secret-websocket';
let runtime: LocalRuntime;
let owner: string;
const clients: LiveClient[] = [];

interface Launched {
  readonly previewId: string;
  readonly token: string;
  readonly wsUrl: string;
}

beforeAll(async () => {
  process.env.PREVIEW_JWT_SECRET = secret;
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations: anyGeneration },
  });
  owner = await mintToken(secret, 'ws-owner', 'pro');
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await runtime?.close();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A preview that never runs (the starter only records): its token and its connections are what matter. */
async function launch(generationId: string, restart = false): Promise<Launched> {
  const { status, json } = await call('POST', `/api/generations/${generationId}/preview/launch`, { restart });
  expect(status).toBe(202);
  return {
    previewId: String(json.previewInstanceId),
    token: String(json.previewToken),
    wsUrl: String(json.wsUrl),
  };
}

async function connect(
  preview: Launched,
): Promise<{ client: LiveClient; closed: Promise<[number, string]> }> {
  const client = await LiveClient.connect(`${preview.wsUrl}?token=${encodeURIComponent(preview.token)}`);
  clients.push(client);
  const closed = new Promise<[number, string]>((resolve) =>
    client.socket.once('close', (code, reason) => resolve([code, reason.toString()])),
  );
  return { client, closed };
}

const ofType = (received: readonly Received[], type: string) => received.filter((m) => m.type === type);

describe('the WebSocket lifecycle, through the local gateway', () => {
  it("sends the preview's status and health first, then closes with 4002 and a closing message on delete", async () => {
    const preview = await launch('ws-lifecycle-delete');
    const { client, closed } = await connect(preview);

    expect(await client.next('status', 0)).toEqual({
      type: 'status',
      timestamp: expect.any(String),
      previewId: preview.previewId,
      status: 'requested',
      statusReason: null,
      expiresAt: null,
      health: { status: 'unknown', checks: [] },
    });
    expect(client.received[0]?.type).toBe('status');

    expect((await call('DELETE', '/api/generations/ws-lifecycle-delete/preview')).status).toBe(200);
    expect(await closed).toEqual([4002, 'The preview was deleted.']);
    expect(client.received.at(-1)).toEqual({
      type: 'closing',
      code: 4002,
      reason: 'The preview was deleted.',
    });
    // The stop's status changes came before the closing message.
    expect(ofType(client.received, 'status').map((m) => m.status)).toEqual([
      'requested',
      'stopping',
      'stopped',
    ]);
  });

  it('closes with 4004 on a restart, pointing to the new preview and its URL but not its token', async () => {
    const first = await launch('ws-lifecycle-restart');
    const { client, closed } = await connect(first);
    await client.next('status', 0);

    const second = await launch('ws-lifecycle-restart', true);

    const [code, reason] = await closed;
    expect(code).toBe(4004);
    expect(reason).toMatch(/^The preview restarted with a new token/);
    const closing = client.received.at(-1);
    expect(closing).toEqual({
      type: 'closing',
      code: 4004,
      reason,
      previewId: second.previewId,
      wsUrl: second.wsUrl,
    });
    expect(second.previewId).not.toBe(first.previewId);
    expect(JSON.stringify(client.received)).not.toContain(second.token);
    // The pointer works with the new token.
    const next = await connect(second);
    expect(await next.client.next('status', 0)).toMatchObject({ previewId: second.previewId });
  });
});

describe('the WebSocket contract, through the local gateway', () => {
  it('serves the AsyncAPI document and its page without a token', async () => {
    const document = await fetch(`${runtime.url}/api/asyncapi.json`);
    expect(document.status).toBe(200);
    const body = (await document.json()) as { asyncapi: string; servers: { service: { host: string } } };
    expect(body.asyncapi).toMatch(/^3\./);
    expect(body.servers.service.host).toBe(new URL(runtime.url).host);

    const page = await fetch(`${runtime.url}/docs/websocket`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const text = await page.text();
    expect(text).toContain('<h2>Close codes</h2>');
    expect(text).toContain('id="message-closing"');
  });
});
