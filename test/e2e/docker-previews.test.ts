import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../scripts/local/local-runtime.js';
import { mintToken } from '../../scripts/local/mint-token.js';
import { docker, leftovers, skipWithoutDocker } from '../support/docker.js';

const secret = 'docker-e2e-secret-docker-e2e-secret';
let runtime: LocalRuntime;
let token: string;
const launched = new Set<string>();

/** A user per run, so previews of earlier runs never collide. */
const user = `e2e-${Date.now().toString(36)}`;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  process.env.PREVIEW_JWT_SECRET = secret;
  process.env.PREVIEW_RUNNER = 'docker';
  process.env.PREVIEW_RESOURCE_TIER_PRO = '{"maxConcurrentPreviews": 10}';
  process.env.PREVIEW_RESOURCE_SAMPLE_SECONDS = '1';
  runtime = await startLocalRuntime({ port: 0, dataDir: undefined });
  token = await mintToken(secret, user, 'pro');
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  for (const generationId of launched) await api('DELETE', `/api/generations/${generationId}/preview`);
  await runtime?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked field by field
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

async function launch(generationId: string, body: Record<string, unknown> = {}) {
  launched.add(generationId);
  const started = performance.now();
  const response = await api('POST', `/api/generations/${generationId}/preview/launch?wait=25`, body);
  expect(response.status).toBe(202);
  const settled = await settle(generationId);
  return { response, status: settled, seconds: (performance.now() - started) / 1000 };
}

/** Polls status until the preview is healthy or finished. */
async function settle(generationId: string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { json } = await api('GET', `/api/generations/${generationId}/preview/status`);
    if (['healthy', 'failed', 'stopped'].includes(json.status) || Date.now() > deadline) return json;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Polls until `read` yields something, for at most 15 s. */
async function eventually<T>(read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('gave up waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function previewIdOf(generationId: string): Promise<string> {
  return (await api('GET', `/api/generations/${generationId}/preview/status`)).json.previewInstanceId;
}

describe.skipIf(skipWithoutDocker)('previews on the local Docker engine, through the gateway', () => {
  it('launches FastAPI + PostgreSQL to healthy and serves requests through the proxy', async () => {
    const { status } = await launch('todo-postgres');
    expect(status).toMatchObject({
      status: 'healthy',
      failure: null,
      database: { type: 'postgresql', migrationStatus: 'completed' },
    });
    expect(status.timeline.map((s: { step: string }) => s.step)).toEqual(
      expect.arrayContaining([
        'requested',
        'build',
        'start',
        'database',
        'migrations',
        'seed',
        'first_healthy',
      ]),
    );
    expect(status.expiresAt).not.toBeNull();

    const created = await api('POST', '/api/generations/todo-postgres/preview/request', {
      method: 'POST',
      path: '/todos',
      body: { title: 'write the preview service' },
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      statusCode: 201,
      body: { id: expect.any(Number), title: 'write the preview service' },
    });
    expect(created.json.durationMs).toBeGreaterThan(0);

    const fetched = await api('POST', '/api/generations/todo-postgres/preview/request', {
      method: 'GET',
      path: `/todos/${created.json.body.id}`,
    });
    expect(fetched.json).toMatchObject({ statusCode: 200, body: { title: 'write the preview service' } });

    const proxied = await api('GET', '/api/generations/todo-postgres/preview/proxy/todos?limit=500');
    expect(proxied.status).toBe(200);
    expect(proxied.json.map((t: { title: string }) => t.title)).toContain('write the preview service');

    const endpoints = await api('GET', '/api/generations/todo-postgres/endpoints');
    expect(endpoints.json.endpoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'POST', path: '/todos' }),
        expect.objectContaining({ method: 'GET', path: '/health' }),
      ]),
    );

    const measured = await eventually(async () => {
      const { json } = await api('GET', '/api/generations/todo-postgres/preview/status');
      return json.resources.memory.used === null ? undefined : json;
    });
    const usedMb = parseInt(measured.resources.memory.used, 10);
    expect(usedMb).toBeGreaterThan(10);
    expect(usedMb).toBeLessThan(1024);
    expect(measured.resources.memory.percent).toBeCloseTo((usedMb / 1024) * 100, 0);
    expect(measured.resources.cpu.used).toBeGreaterThanOrEqual(0);
    expect(measured.resources.cpu.allocated).toBe('2 cores');
    expect(measured.performance).toMatchObject({ requestCount: 4, errorCount: 0, errorRate: '0%' });
    expect(measured.performance.p95ResponseTime).toMatch(/^\d+ms$/);

    const config = await api('GET', '/api/generations/todo-postgres/preview/config');
    expect(config.json).toMatchObject({
      tier: 'pro',
      limits: { memoryMb: 1024, cpuCores: 2 },
      database: { type: 'postgresql' },
    });
    expect(JSON.stringify(config.json)).not.toMatch(/postgresql:\/\/[^*]/);
  });

  it('refuses proxy paths that are URLs or climb out of the app', async () => {
    for (const path of ['//evil.example/x', '/a/../../etc/passwd', '/%2e%2e/secret', '/a/%2E%2E/%2e%2e/b']) {
      const response = await api('POST', '/api/generations/todo-postgres/preview/request', {
        method: 'GET',
        path,
      });
      expect(response.status, path).toBe(400);
      expect(response.json.error.code).toBe('validation_failed');
    }
    const absolute = await api('POST', '/api/generations/todo-postgres/preview/request', {
      method: 'GET',
      path: 'http://evil.example/',
    });
    expect(absolute.status).toBe(400);
    const viaProxy = await api('GET', '/api/generations/todo-postgres/preview/proxy/..%2F..%2Fetc');
    expect(viaProxy.status).toBe(400);
  });

  it('removes everything within 5 s of DELETE, and relaunches from the cached image faster', async () => {
    const previewId = await previewIdOf('todo-postgres');
    const started = performance.now();
    const deleted = await api('DELETE', '/api/generations/todo-postgres/preview');
    expect(deleted.json).toMatchObject({ status: 'stopped' });
    expect(await leftovers(previewId)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5000);

    const again = await launch('todo-postgres');
    expect(again.status.status).toBe('healthy');
    const events = await api('GET', '/api/generations/todo-postgres/preview/events');
    const built = events.json.events.find((e: { type: string }) => e.type === 'built');
    expect(built.data).toMatchObject({ cached: true });
    await api('DELETE', '/api/generations/todo-postgres/preview');
  });

  it('fails a preview whose migration fails, says why, and leaves nothing behind', async () => {
    const { status } = await launch('broken-migration');
    expect(status.status).toBe('failed');
    expect(status.failure).toMatchObject({ step: 'migrate', reason: 'exit_nonzero', exitCode: 1 });
    expect(status.failure.lastLines.join('\n')).toMatch(/does not exist/);
    expect(status.database.migrationStatus).toBe('failed');
    expect(await leftovers(status.previewInstanceId)).toEqual([]);
  });

  it('fails a preview that runs out of memory, with that reason', async () => {
    const { status } = await launch('memory-hog', { resourceTier: 'free' });
    expect(status.status).toBe('failed');
    expect(status.failure).toMatchObject({ step: 'app', reason: 'out_of_memory' });
    expect(await leftovers(status.previewInstanceId)).toEqual([]);
  });

  it('leaves no container of this run behind', async () => {
    const containers = await docker.listContainers({
      all: true,
      filters: { label: ['preview.managed=true'] },
    });
    const ours = await Promise.all(
      [...launched].map(
        async (g) => (await api('GET', `/api/generations/${g}/preview/status`)).json.previewInstanceId,
      ),
    );
    expect(containers.filter((c) => ours.includes(c.Labels['preview.id']))).toEqual([]);
  });
});
