import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configResponseSchema,
  launchResponseSchema,
  listPreviewsResponseSchema,
  logsResponseSchema,
  rotatedTokenResponseSchema,
  statusResponseSchema,
} from '#core/api-schemas.js';
import { routes } from '#handlers/http/routes.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { anyGeneration, RecordingStarter } from '../support/preview-service.js';

const secret = 'e2e-secret-e2e-secret-e2e-secret';
let runtime: LocalRuntime;
let alice: string;
let bob: string;

beforeAll(async () => {
  process.env.PREVIEW_JWT_SECRET = secret;
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations: anyGeneration },
  });
  alice = await mintToken(secret, 'alice', 'free');
  bob = await mintToken(secret, 'bob', 'pro');
});

afterAll(async () => {
  await runtime?.close();
});

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    // Bodies are checked field by field against the documented shapes.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    json: text ? (JSON.parse(text) as Record<string, any>) : undefined,
  };
}

/** Every error, whoever produced it, has the one shape and no stack trace. */
function expectError(result: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toMatch(/^application\/json/);
  expect(result.json).toEqual({
    error: {
      code,
      message: expect.any(String),
      ...(result.json?.error?.details ? { details: expect.anything() } : {}),
    },
  });
  // Details, when there are any, are an object: invalid fields under `fields`, other facts beside it.
  if (result.json?.error?.details) expect(Array.isArray(result.json.error.details)).toBe(false);
  expect(JSON.stringify(result.json)).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

const launchPath = (g: string) => `/api/generations/${g}/preview/launch`;

describe('REST API through the local gateway', () => {
  it('answers GET /api/previews with the caller previews and quota', async () => {
    // A user of its own: the other tests' previews are not this one's.
    const carol = await mintToken(secret, 'carol', 'free');
    const none = await call('GET', '/api/previews', { token: carol });
    expect(none.status).toBe(200);
    expect(none.json).toEqual({ previews: [], quota: { tier: 'free', limit: 3, used: 0, remaining: 3 } });

    const launched = await call('POST', launchPath('carols-gen'), { token: carol, body: '{}' });
    const one = await call('GET', '/api/previews', { token: carol });
    expect(one.json).toEqual({
      previews: [
        expect.objectContaining({
          previewInstanceId: launched.json?.previewInstanceId,
          generationId: 'carols-gen',
          status: 'requested',
        }),
      ],
      quota: { tier: 'free', limit: 3, used: 1, remaining: 2 },
    });
  });

  describe('authentication', () => {
    it('refuses a request without a token', async () => {
      expectError(await call('GET', '/api/previews'), 401, 'unauthorized');
    });

    it('refuses a malformed, forged or expired token', async () => {
      expectError(
        await call('GET', '/api/previews', { headers: { authorization: 'Basic YWxpY2U6eA==' } }),
        401,
        'unauthorized',
      );
      expectError(
        await call('GET', '/api/previews', {
          token: await mintToken('not-the-secret-at-all', 'alice', 'pro'),
        }),
        401,
        'unauthorized',
      );
      const expired = await new SignJWT({ tier: 'free' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
        .sign(new TextEncoder().encode(secret));
      expectError(await call('GET', '/api/previews', { token: expired }), 401, 'unauthorized');
      expectError(
        await call('POST', launchPath('g1'), { token: 'garbage', body: '{}' }),
        401,
        'unauthorized',
      );
    });
  });

  describe('bad input', () => {
    it('names each field of wrong type', async () => {
      const result = await call('POST', launchPath('g1'), {
        token: alice,
        body: JSON.stringify({ autoMigrateDatabase: 'yes', databaseType: 'oracle', resourceTier: 7 }),
      });
      expectError(result, 400, 'validation_failed');
      expect(result.json?.error.details.fields.map((d: { field: string }) => d.field).sort()).toEqual([
        'body.autoMigrateDatabase',
        'body.databaseType',
        'body.resourceTier',
      ]);
    });

    it('names unknown fields', async () => {
      const result = await call('POST', launchPath('g1'), {
        token: alice,
        body: JSON.stringify({ memory: 99999, cpu: 64 }),
      });
      expectError(result, 400, 'validation_failed');
      expect(result.json?.error.details).toEqual({
        fields: [{ field: 'body', message: 'Unknown field(s): memory, cpu.' }],
      });
    });

    it('refuses a body that is not JSON, or not an object', async () => {
      expectError(
        await call('POST', launchPath('g1'), { token: alice, body: '{"restart":' }),
        400,
        'bad_request',
      );
      expectError(
        await call('POST', launchPath('g1'), { token: alice, body: '[1,2]' }),
        400,
        'validation_failed',
      );
      expectError(
        await call('POST', launchPath('g1'), {
          token: alice,
          body: 'restart=true',
          headers: { 'content-type': 'text/plain' },
        }),
        400,
        'bad_request',
      );
    });

    it('refuses an oversized body with 413', async () => {
      const body = JSON.stringify({ projectId: 'x'.repeat(300 * 1024) });
      const result = await call('POST', launchPath('g1'), { token: alice, body });
      expectError(result, 413, 'payload_too_large');
      expect(result.json?.error.details).toMatchObject({ limit: 256 * 1024 });
    });

    it('validates path and query parameters', async () => {
      expectError(
        await call('POST', launchPath('bad..id'), { token: alice, body: '{}' }),
        400,
        'validation_failed',
      );
      const wait = await call('POST', `${launchPath('g1')}?wait=99`, { token: alice, body: '{}' });
      expectError(wait, 400, 'validation_failed');
      expect(wait.json?.error.details.fields[0].field).toBe('query.wait');
      expectError(
        await call('GET', '/api/generations/g1/preview/events?limit=0', { token: alice }),
        400,
        'validation_failed',
      );
    });

    it('refuses a tier above the caller plan', async () => {
      expectError(
        await call('POST', launchPath('g1'), { token: alice, body: '{"resourceTier":"enterprise"}' }),
        403,
        'forbidden',
      );
    });

    it('answers unknown routes with 404 in the same shape', async () => {
      expectError(await call('GET', '/api/nothing-here', { token: alice }), 404, 'not_found');
    });
  });

  describe('ownership', () => {
    it("hides one user's preview from another", async () => {
      const launched = await call('POST', launchPath('shared-gen'), { token: alice, body: '{}' });
      expect(launched.status).toBe(202);
      expect(launched.json).toMatchObject({
        status: 'requested',
        previewToken: expect.stringMatching(/^pvt_/),
        wsUrl: `${runtime.url.replace('http', 'ws')}/api/generations/shared-gen/preview/logs`,
        resourceAllocated: { memory: '256MB', cpu: '0.5 cores', storage: '1GB' },
        expiresAt: null,
      });

      for (const [method, path] of [
        ['GET', '/api/generations/shared-gen/preview/status'],
        ['GET', '/api/generations/shared-gen/preview/events'],
        ['DELETE', '/api/generations/shared-gen/preview'],
        ['GET', '/api/generations/shared-gen/endpoints'],
      ] as const) {
        expectError(await call(method, path, { token: bob }), 404, 'not_found');
      }
      expect((await call('GET', '/api/previews', { token: bob })).json?.previews).toEqual([]);

      const status = await call('GET', '/api/generations/shared-gen/preview/status', { token: alice });
      expect(status.status).toBe(200);
      expect(statusResponseSchema.parse(status.json)).toMatchObject({
        previewInstanceId: launched.json?.previewInstanceId,
      });
    });

    it('stops idempotently and keeps the audit trail', async () => {
      expect((await call('POST', launchPath('stopped-gen'), { token: alice, body: '{}' })).status).toBe(202);
      const first = await call('DELETE', '/api/generations/stopped-gen/preview', { token: alice });
      const second = await call('DELETE', '/api/generations/stopped-gen/preview', { token: alice });
      expect(first.status).toBe(200);
      expect(second.json).toEqual(first.json);
      expect(first.json).toMatchObject({ status: 'stopped', stoppedAt: expect.any(String) });
      const events = await call('GET', '/api/generations/stopped-gen/preview/events', { token: alice });
      expect(events.json?.events.map((e: { type: string }) => e.type)).toEqual([
        'launched',
        'stopping',
        'stopped',
      ]);
    });
  });

  it('validates log queries, then answers them', async () => {
    await call('POST', launchPath('later'), { token: alice, body: '{}' });
    expectError(
      await call('GET', '/api/generations/later/preview/logs?level=LOUD', { token: alice }),
      400,
      'validation_failed',
    );
    const logs = await call('GET', '/api/generations/later/preview/logs?level=ERROR', { token: alice });
    expect(logs.status).toBe(200);
    expect(logs.json).toEqual({ previewInstanceId: expect.any(String), logs: [] });
  });

  it('answers exactly as the documented schemas say, no field more or less', async () => {
    const dave = await mintToken(secret, 'dave', 'free');
    const answers = [
      [launchResponseSchema, await call('POST', launchPath('documented'), { token: dave, body: '{}' })],
      [listPreviewsResponseSchema, await call('GET', '/api/previews', { token: dave })],
      [
        statusResponseSchema,
        await call('GET', '/api/generations/documented/preview/status', { token: dave }),
      ],
      [
        configResponseSchema,
        await call('GET', '/api/generations/documented/preview/config', { token: dave }),
      ],
      [logsResponseSchema, await call('GET', '/api/generations/documented/preview/logs', { token: dave })],
      [
        rotatedTokenResponseSchema,
        await call('POST', '/api/generations/documented/preview/token', { token: dave }),
      ],
    ] as const;
    for (const [schema, answer] of answers) {
      expect(answer.status).toBeLessThan(300);
      // Parsing drops what the schema does not name: equal means nothing undocumented was sent.
      expect(schema.parse(answer.json)).toEqual(answer.json);
    }
  });

  it('serves an OpenAPI document covering every route, without a token', async () => {
    const result = await call('GET', '/api/openapi.json');
    expect(result.status).toBe(200);
    expect(result.json?.openapi).toBe('3.1.0');
    for (const route of routes)
      expect(Object.keys(result.json?.paths)).toContain(route.path.replace('{proxy+}', '{proxy}'));
  });
});
