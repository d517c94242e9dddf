import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docker, leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, until, type TestService } from '../support/local-service.js';

let service: TestService;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  service = await startTestService({
    tier: 'pro',
    env: {
      PREVIEW_RESOURCE_TIER_PRO: '{"maxConcurrentPreviews": 10}',
      PREVIEW_RESOURCE_SAMPLE_SECONDS: '1',
      PREVIEW_DATABASE_COUNT_SECONDS: '1',
    },
  });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
});

const api: TestService['api'] = (...args) => service.api(...args);

/** What this test launched: stopped after it, with nothing of theirs left, so no test depends on another. */
const launchedIds = new Set<string>();

afterEach(async () => {
  if (skipWithoutDocker) return;
  const generations = [...launchedIds];
  launchedIds.clear();
  const previewIds = await Promise.all(generations.map(previewIdOf));
  for (const generationId of generations) await api('DELETE', `/api/generations/${generationId}/preview`);
  const containers = await docker.listContainers({ all: true, filters: { label: ['preview.managed=true'] } });
  expect(containers.filter((c) => previewIds.includes(c.Labels['preview.id'] ?? ''))).toEqual([]);
});

async function launch(generationId: string, body: Record<string, unknown> = {}) {
  launchedIds.add(generationId);
  const { status, settled } = await service.launch(generationId, body);
  expect(status).toBe(202);
  return { status: settled };
}

async function previewIdOf(generationId: string): Promise<string> {
  return (await service.status(generationId)).previewInstanceId;
}

// Launches with a database, on an engine shared by other suites: generous time.
describe.skipIf(skipWithoutDocker)(
  'previews on the local Docker engine, through the gateway',
  { timeout: 180_000 },
  () => {
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

      // Counted inside the database: users (2) and todos (3 seeded, 1 created above).
      const counted = await until(
        60,
        () => service.status('todo-postgres'),
        (s) => s.database.records === 6,
      );
      expect(counted.database).toMatchObject({
        tables: 2,
        records: 6,
        countedAt: expect.any(String),
        notCountedReason: null,
      });
      expect(counted.generatedEndpoints).toEqual(endpoints.json.endpoints);

      const measured = await until(
        60,
        () => service.status('todo-postgres'),
        // Resources are sampled every second and request counts written at most a second late.
        (s) => s.resources.memory.used !== null && s.performance.requestCount === 4,
      );
      const usedMb = parseInt(measured.resources.memory.used, 10);
      expect(usedMb).toBeGreaterThan(10);
      expect(usedMb).toBeLessThan(1024);
      expect(measured.resources.memory.percent).toBeCloseTo((usedMb / 1024) * 100, 0);
      expect(measured.resources.cpu.allocated).toBe('2 cores');
      expect(measured.performance).toMatchObject({ requestCount: 4, errorCount: 0, errorRate: '0%' });
      expect(measured.performance.p95ResponseTime).toMatch(/^\d+ms$/);

      // CPU is what the app spent while it worked: requests keep it busy until a sample shows it.
      const busy = await until(
        60,
        async () => {
          await Promise.all(
            Array.from({ length: 20 }, () =>
              api('POST', '/api/generations/todo-postgres/preview/request', {
                method: 'GET',
                path: '/todos',
              }),
            ),
          );
          return service.status('todo-postgres');
        },
        (s) => s.resources.cpu.used > 0,
      );
      // In cores, within the tier's 2.
      expect(busy.resources.cpu.used).toBeGreaterThan(0);
      expect(busy.resources.cpu.used).toBeLessThanOrEqual(2);

      const config = await api('GET', '/api/generations/todo-postgres/preview/config');
      expect(config.json).toMatchObject({
        tier: 'pro',
        limits: { memoryMb: 1024, cpuCores: 2 },
        database: { type: 'postgresql' },
      });
      // Every database variable is listed, the password in none of them.
      expect(config.json.database.environment).toMatchObject({
        DATABASE_URL: 'postgresql://preview:***@127.0.0.1:5432/preview',
        DATABASE_URL_ASYNC: 'postgresql+asyncpg://preview:***@127.0.0.1:5432/preview',
        POSTGRES_PASSWORD: '***',
        PGPASSWORD: '***',
        PGHOST: '127.0.0.1',
      });
      expect(JSON.stringify(config.json)).not.toMatch(/postgresql(\+asyncpg)?:\/\/[^:"]+:(?!\*\*\*@)/);
    });

    it("lists the app's OpenAPI operations in the status, as GET …/endpoints lists them", async () => {
      const { status } = await launch('hello-api');
      expect(status.status).toBe('healthy');
      // Read once the preview is healthy, without holding the healthy status back.
      const listed = await until(
        60,
        () => service.status('hello-api'),
        (s) => s.generatedEndpoints.length > 0,
      );
      const operation = (method: string, path: string, description: string) => ({
        method,
        path,
        description,
        operationId: expect.any(String),
      });
      expect(listed.generatedEndpoints).toEqual([
        operation('GET', '/health', 'Health'),
        operation('GET', '/hello/{name}', 'Hello'),
        operation('GET', '/greetings', 'List Greetings'),
        operation('POST', '/greetings', 'Create Greeting'),
        operation('GET', '/greetings/{greeting_id}', 'Get Greeting'),
      ]);
      const endpoints = await api('GET', '/api/generations/hello-api/endpoints');
      expect(listed.generatedEndpoints).toEqual(endpoints.json.endpoints);
      expect(listed.database).toMatchObject({
        type: 'none',
        tables: null,
        records: null,
        notCountedReason: 'the preview has no database',
      });
    });

    it('refuses proxy paths that are URLs or climb out of the app', async () => {
      await launch('todo-postgres');
      for (const path of [
        '//evil.example/x',
        '/a/../../etc/passwd',
        '/%2e%2e/secret',
        '/a/%2E%2E/%2e%2e/b',
      ]) {
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

    it('has removed everything by the time DELETE answers, and relaunches from the cached image', async () => {
      await launch('todo-postgres');
      const previewId = await previewIdOf('todo-postgres');
      const deleted = await api('DELETE', '/api/generations/todo-postgres/preview');
      expect(deleted.json).toMatchObject({ status: 'stopped' });
      expect(await leftovers(previewId)).toEqual([]);

      const again = await launch('todo-postgres');
      expect(again.status.status).toBe('healthy');
      const events = await api('GET', '/api/generations/todo-postgres/preview/events');
      const built = events.json.events.find((e: { type: string }) => e.type === 'built');
      expect(built.data).toMatchObject({ cached: true });
    });

    it('fails a preview whose migration fails, says why, and leaves nothing behind', async () => {
      const { status } = await launch('broken-migration');
      expect(status.status).toBe('failed');
      expect(status.failure).toMatchObject({ step: 'migrate', reason: 'migration_failed', exitCode: 1 });
      expect(status.failure.message).toMatch(
        /^The migration command `.+` failed with exit code 1: .*does not exist/,
      );
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
  },
);
