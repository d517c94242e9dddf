import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  errorCodes,
  PreviewApiError,
  PreviewClient,
  PreviewUnreachableError,
  type LiveMessage,
  type LogMessage,
  type PreviewLogStream,
  type WebSocketConstructor,
} from '../../client/src/index.js';
import type { ServerMessage } from '#core/live-messages.js';
import { openApiDocument } from '#handlers/http/openapi-document.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { anyGeneration, RecordingStarter } from '../support/preview-service.js';

const secret = 'client-test-secret-client-test-secret';
let runtime: LocalRuntime;
let client: PreviewClient;
const streams: PreviewLogStream[] = [];

beforeAll(async () => {
  process.env.PREVIEW_JWT_SECRET = secret;
  process.env.PREVIEW_RESOURCE_TIER_PRO = '{"maxConcurrentPreviews": 20}';
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations: anyGeneration },
  });
  client = new PreviewClient({ baseUrl: runtime.url, token: await mintToken(secret, 'client-user', 'pro') });
});

afterAll(async () => {
  for (const stream of streams) stream.close();
  await runtime?.close();
});

/** `ws`'s WebSocket, keeping each socket it opens so that a test can cut one. */
function recordingWebSocket(): { implementation: WebSocketConstructor; sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { implementation: Recording as unknown as WebSocketConstructor, sockets };
}

/** Resolves when `done` holds, checked on every message of the stream. */
function until(
  stream: PreviewLogStream,
  done: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`gave up waiting for ${what}`));
    }, timeoutMs);
    const stop = stream.on('message', () => {
      if (!done()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

/** A preview that never runs (the starter only records): its live stream is what is tested. */
async function launched(generationId: string) {
  const { created, preview } = await client.launch(generationId);
  expect(created).toBe(true);
  if (!preview.previewToken) throw new Error('a created preview carries its token');
  return { ...preview, previewToken: preview.previewToken };
}

describe('the typed client against the local gateway', () => {
  it('lists, launches, reads and stops a preview with typed answers', async () => {
    const before = await client.listPreviews();
    expect(before.quota).toMatchObject({ tier: 'pro', limit: 20 });

    const first = await client.launch('client-rest');
    expect(first.created).toBe(true);
    expect(first.preview).toMatchObject({
      status: 'requested',
      previewToken: expect.stringMatching(/^pvt_/),
    });
    const again = await client.launch('client-rest');
    expect(again).toMatchObject({
      created: false,
      preview: { previewInstanceId: first.preview.previewInstanceId },
    });
    expect(again.preview.previewToken).toBeUndefined();

    const status = await client.status('client-rest');
    expect(status.previewInstanceId).toBe(first.preview.previewInstanceId);
    expect(status.timeline.map((step) => step.step)).toContain('requested');
    const events = await client.events('client-rest', { limit: 10 });
    expect(events.events.map((e) => e.type)).toContain('launched');
    const rotated = await client.rotateToken('client-rest');
    expect(rotated.previewToken).toMatch(/^pvt_/);
    expect(rotated.previewToken).not.toBe(first.preview.previewToken);

    runtime.logs.processLine(first.preview.previewInstanceId, 'app', 'hello from the app');
    const lines: string[] = [];
    for (let i = 0; i < 50 && !lines.includes('hello from the app'); i += 1) {
      lines.splice(
        0,
        lines.length,
        ...(await client.logs('client-rest', { search: 'hello' })).logs.map((l) => l.message),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(lines).toEqual(['hello from the app']);
    const exported = await client.exportLogs('client-rest', { format: 'csv', search: 'hello' });
    expect(exported.contentType).toMatch(/^text\/csv/);
    expect(new TextDecoder().decode(exported.body)).toContain('hello from the app');

    const stopped = await client.delete('client-rest');
    expect(stopped.previewInstanceId).toBe(first.preview.previewInstanceId);
    expect(['stopping', 'stopped']).toContain(stopped.status);
  });

  it('rejects with the service error, typed by code', async () => {
    const missing = await client.status('never-launched').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(PreviewApiError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect((missing as PreviewApiError).is('not_found')).toBe(true);

    const invalid = await client
      .launch('client-invalid', { resourceTier: 'gold' as 'pro' })
      .catch((error: unknown) => error);
    expect(invalid).toMatchObject({
      status: 400,
      code: 'validation_failed',
      details: { fields: [expect.objectContaining({ field: 'body.resourceTier' })] },
    });

    const stranger = new PreviewClient({ baseUrl: runtime.url, token: 'not-a-token' });
    await expect(stranger.listPreviews()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });

    const nowhere = new PreviewClient({ baseUrl: 'http://127.0.0.1:1', token: 'x' });
    await expect(nowhere.listPreviews()).rejects.toBeInstanceOf(PreviewUnreachableError);
  });

  it('knows every error code the document lists', () => {
    const documented = new Set<string>();
    for (const operations of Object.values(openApiDocument('http://127.0.0.1').paths)) {
      for (const operation of Object.values(operations) as { responses: Record<string, unknown> }[]) {
        for (const response of Object.values(operation.responses)) {
          const codes = (
            response as {
              content?: Record<
                string,
                { schema: { properties?: { error?: { properties: { code: { enum: string[] } } } } } }
              >;
            }
          ).content?.['application/json']?.schema.properties?.error?.properties.code.enum;
          for (const code of codes ?? []) documented.add(code);
        }
      }
    }
    expect([...documented].sort()).toEqual([...errorCodes].sort());
  });

  it("types every live message the service sends as one of the client's", () => {
    // A compile-time check as much as a run-time one: the service's message type must fit the client's.
    const fromService: ServerMessage = {
      type: 'status',
      timestamp: '2026-11-26T02:30:06.882Z',
      previewId: 'preview_1',
      status: 'healthy',
      statusReason: null,
      expiresAt: null,
      health: { status: 'healthy', checks: [{ name: 'http', status: 'passing' }] },
    };
    const asClientSees: LiveMessage = fromService;
    expect(asClientSees.type).toBe('status');
  });
});

describe('PreviewLogStream against the local gateway', () => {
  it('hands out every line exactly once, in order, across a forced disconnect at 1,000 lines a second', async () => {
    const preview = await launched('client-stream');
    const { implementation, sockets } = recordingWebSocket();
    const stream = client.logStream({
      url: preview.wsUrl,
      previewToken: preview.previewToken,
      WebSocket: implementation,
      reconnect: { initialDelayMs: 50 },
    });
    streams.push(stream);
    const received: LogMessage[] = [];
    stream.on('log', (message) => received.push(message));
    const states: string[] = [];
    stream.on('state', (state) => states.push(state));
    await new Promise<void>((resolve) => stream.on('state', (state) => state === 'open' && resolve()));

    // 5,000 lines at 1,000 a second, written as the app container prints them.
    const total = 5000;
    let written = 0;
    const startedAt = Date.now();
    const writer = setInterval(() => {
      const due = Math.min(total, Math.floor(Date.now() - startedAt));
      for (; written < due; written += 1) {
        runtime.logs.processLine(preview.previewInstanceId, 'app', `line ${written}`);
      }
      if (written === total) clearInterval(writer);
    }, 5);

    const lines = () => received.filter((m) => m.message.startsWith('line '));
    await until(stream, () => lines().length >= 1000, 'the first 1,000 lines');
    // Cut the connection with no closing handshake, as a network failure would.
    sockets[0]?.terminate();
    const writtenAtCut = written;
    await until(stream, () => lines().length >= total, `all ${total} lines`, 60_000);
    clearInterval(writer);

    expect(writtenAtCut).toBeLessThan(total);
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(states).toContain('reconnecting');
    expect(lines().map((m) => m.message)).toEqual(Array.from({ length: total }, (_, n) => `line ${n}`));
    const cursors = received.map((m) => m.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(stream.lastCursor).toBe(cursors.at(-1));
  });

  it('asks for the new preview token after a rotation and carries on where it was', async () => {
    const preview = await launched('client-rotation');
    let token = preview.previewToken;
    const stream = client.logStream({
      url: preview.wsUrl,
      previewToken: () => token,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      reconnect: { initialDelayMs: 50 },
    });
    streams.push(stream);
    const received: string[] = [];
    const closings: number[] = [];
    stream.on('log', (message) => received.push(message.message));
    stream.on('closing', (message) => closings.push(message.code));
    await new Promise<void>((resolve) => stream.on('state', (state) => state === 'open' && resolve()));

    runtime.logs.processLine(preview.previewInstanceId, 'app', 'before rotation');
    await until(stream, () => received.includes('before rotation'), 'the line before the rotation');
    token = (await client.rotateToken('client-rotation')).previewToken;
    await until(stream, () => closings.includes(4003), 'the rotation notice');
    runtime.logs.processLine(preview.previewInstanceId, 'app', 'after rotation');
    await until(stream, () => received.includes('after rotation'), 'the line after the rotation');
    expect(received.filter((m) => m.endsWith('rotation'))).toEqual(['before rotation', 'after rotation']);
  });

  it('ends when the preview is stopped', async () => {
    const preview = await launched('client-ending');
    const stream = client.logStream({
      url: preview.wsUrl,
      previewToken: preview.previewToken,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    streams.push(stream);
    await new Promise<void>((resolve) => stream.on('state', (state) => state === 'open' && resolve()));
    await client.delete('client-ending');
    await expect(stream.ended).resolves.toBe('closed by the service (4002: The preview was deleted.)');
    expect(stream.state).toBe('ended');
  });
});
