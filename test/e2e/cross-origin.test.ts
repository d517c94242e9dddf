import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationStore } from '#core/ports.js';
import {
  corsAllowedHeaders,
  corsAllowedMethods,
  corsMaxAgeSeconds,
} from '#handlers/middleware/cors-headers.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { anyGeneration, RecordingStarter } from '../support/preview-service.js';

const origin = 'https://app.example.com';
const secret = 'cross-origin-secret-cross-origin-secret';
const settings = {
  PREVIEW_ALLOWED_ORIGIN: origin,
  // A burst small enough for one user to use up, large enough for the other tests' user.
  PREVIEW_RATE_LIMIT_PER_SECOND: '1',
  PREVIEW_RATE_LIMIT_BURST: '20',
};
let runtime: LocalRuntime;
let alice: string;

/** Any generation, but `broken` fails to load as a storage outage would. */
const generations: GenerationStore = {
  async load(generationId) {
    if (generationId === 'broken') throw new Error('storage is down');
    return anyGeneration.load(generationId);
  },
};

beforeAll(async () => {
  Object.assign(process.env, settings, { PREVIEW_JWT_SECRET: secret });
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations },
  });
  alice = await mintToken(secret, 'alice', 'free');
});

afterAll(async () => {
  await runtime?.close();
  for (const name of Object.keys(settings)) delete process.env[name];
});

const request = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${runtime.url}${path}`, { method, headers: { origin, ...headers }, body });

const preflight = (path: string) =>
  request('OPTIONS', path, {
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization,content-type,x-preview-token',
  });

function expectReadableByOrigin(response: Response) {
  expect(response.headers.get('access-control-allow-origin')).toBe(origin);
  expect(response.headers.get('vary')).toBe('Origin');
}

describe('a browser on the SaaS origin', () => {
  it.each([
    '/api/previews',
    '/api/generations/g1/preview/launch',
    '/api/generations/g1/preview/proxy',
    '/api/generations/g1/preview/proxy/items/1',
    '/api',
    '/',
  ])('gets the preflight of %s without a token, as API Gateway answers it', async (path) => {
    const response = await preflight(path);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expectReadableByOrigin(response);
    expect(response.headers.get('access-control-allow-methods')).toBe(corsAllowedMethods.join(','));
    expect(response.headers.get('access-control-allow-headers')).toBe(corsAllowedHeaders.join(','));
    expect(response.headers.get('access-control-max-age')).toBe(String(corsMaxAgeSeconds));
  });

  it('gets no preflight for a path the API does not have', async () => {
    const response = await preflight('/nothing/here');
    expect(response.status).toBe(404);
    expectReadableByOrigin(response);
  });

  it('reads a bearer-token GET', async () => {
    const response = await request('GET', '/api/previews', { authorization: `Bearer ${alice}` });
    expect(response.status).toBe(200);
    expectReadableByOrigin(response);
    expect(await response.json()).toMatchObject({ previews: [] });
  });

  it.each([
    ['no token', 'GET', '/api/previews', {}, undefined, 401, 'unauthorized'],
    ['a bad token', 'GET', '/api/previews', { authorization: 'Bearer nope' }, undefined, 401, 'unauthorized'],
    ['no route', 'GET', '/api/nothing', {}, undefined, 404, 'not_found'],
    [
      'a body over the gateway limit',
      'POST',
      '/api/generations/g1/preview/launch',
      { 'content-type': 'application/json' },
      'x'.repeat(10 * 1024 * 1024 + 1),
      413,
      'payload_too_large',
    ],
  ])('reads the error for %s', async (_what, method, path, headers, body, status, code) => {
    const response = await request(method, path, headers, body);
    expect(response.status).toBe(status);
    expectReadableByOrigin(response);
    expect(await response.json()).toMatchObject({ error: { code } });
  });

  it("reads the route's own errors: a body over the service limit, a failure on the service's side", async () => {
    const auth = { authorization: `Bearer ${alice}`, 'content-type': 'application/json' };
    const tooLarge = await request(
      'POST',
      '/api/generations/g1/preview/launch',
      auth,
      JSON.stringify({ projectId: 'x'.repeat(300 * 1024) }),
    );
    expect(tooLarge.status).toBe(413);
    expectReadableByOrigin(tooLarge);
    const failed = await request('POST', '/api/generations/broken/preview/launch', auth, '{}');
    expect(failed.status).toBe(500);
    expectReadableByOrigin(failed);
    expect(await failed.json()).toMatchObject({ error: { code: 'internal' } });
  });

  it('reads the refusal once over the request rate', async () => {
    const eve = await mintToken(secret, 'eve', 'free');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => request('GET', '/api/previews', { authorization: `Bearer ${eve}` })),
    );
    const limited = answers.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const response of limited) {
      expectReadableByOrigin(response);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
