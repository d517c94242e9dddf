import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noRuntimeNotice } from '#adapters/local/docker-available.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { RuntimeUnavailableStarter } from '#local/runtime-unavailable-starter.js';
import { anyGeneration } from '../support/preview-service.js';

const secret = 'no-runtime-secret-no-runtime-secret-no';
let runtime: LocalRuntime;
let token: string;

beforeAll(async () => {
  process.env.PREVIEW_JWT_SECRET = secret;
  // What the local runtime plugs in when no Docker engine answers and PREVIEW_RUNNER is unset.
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RuntimeUnavailableStarter(noRuntimeNotice()), generations: anyGeneration },
  });
  token = await mintToken(secret, 'no-runtime-user', 'free');
});

afterAll(async () => {
  await runtime?.close();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // Bodies are read field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, headers: response.headers, json: (await response.json()) as any };
}

describe('launches without a runtime', () => {
  it('answer 503 runtime_unavailable with Retry-After, and record nothing', async () => {
    for (const body of [{}, { restart: true }]) {
      const answer = await call('POST', '/api/generations/hello-api/preview/launch', body);
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('30');
      expect(answer.json).toEqual({ error: { code: 'runtime_unavailable', message: noRuntimeNotice() } });
    }
    const listed = await call('GET', '/api/previews');
    expect(listed.json.previews).toEqual([]);
    expect(listed.json.quota).toMatchObject({ used: 0 });
  });
});
