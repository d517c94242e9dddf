import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docker, leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, type TestService } from '../support/local-service.js';

let service: TestService;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  service = await startTestService({
    tier: 'enterprise',
    env: { PREVIEW_GENERATIONS_DIR: 'test/fixtures/generations' },
  });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
});

// Each test launches what it needs and stops it after: none finds another's preview still running.
afterEach(async () => {
  if (skipWithoutDocker) return;
  for (const generationId of ['spec-default', 'loopback-in-code', 'missing-health'])
    await service.api('DELETE', `/api/generations/${generationId}/preview`);
});

async function request(generationId: string, path: string) {
  return service.api('POST', `/api/generations/${generationId}/preview/request`, { method: 'GET', path });
}

// Builds, starts and health intervals on an engine shared by other suites: generous time.
describe.skipIf(skipWithoutDocker)(
  'generated apps as generators write them, through the gateway',
  { timeout: 90_000 },
  () => {
    it('serves the spec-default `uvicorn app.main:app` through the proxy once healthy', async () => {
      const { settled } = await service.launch('spec-default', { resourceTier: 'free' });
      expect(settled).toMatchObject({ status: 'healthy', failure: null });
      const answer = await request('spec-default', '/api/items');
      expect(answer.json).toMatchObject({ statusCode: 200, body: [{ id: 1, name: 'first' }] });

      const config = await service.api('GET', '/api/generations/spec-default/preview/config');
      expect(config.json).toMatchObject({
        entryPoint: 'uvicorn app.main:app',
        command: 'uvicorn app.main:app',
        commandChanges: [],
        listenEnvironment: { UVICORN_HOST: '0.0.0.0', UVICORN_PORT: '8000', PORT: '8000', HOST: '0.0.0.0' },
      });
    });

    it('serves an app bound to 127.0.0.1:8080 in its code through the bridge', async () => {
      const { settled } = await service.launch('loopback-in-code', { resourceTier: 'free' });
      expect(settled).toMatchObject({ status: 'healthy', failure: null });
      const answer = await request('loopback-in-code', '/api/items');
      expect(answer.json).toMatchObject({ statusCode: 200, body: [{ name: 'reached through the bridge' }] });
      const proxied = await service.api('GET', '/api/generations/loopback-in-code/preview/proxy/health');
      expect(proxied).toMatchObject({ status: 200, json: { status: 'ok' } });
    });

    it('fails an app with no health route, naming routes it has, and leaves nothing behind', async () => {
      const { settled } = await service.launch('missing-health', { resourceTier: 'free' });
      expect(settled).toMatchObject({
        status: 'failed',
        failure: { step: 'app', reason: 'health_not_found' },
      });
      expect(settled.failure.message).toContain('GET /api/status');
      expect(await leftovers(settled.previewInstanceId)).toEqual([]);
    });

    it('runs an enterprise preview on this engine with fitted limits, shown in status and config', async () => {
      const info = await docker.info();
      const { settled: healthy } = await service.launch('spec-default', { resourceTier: 'enterprise' });
      expect(healthy.status).toBe('healthy');
      const cpus = Math.min(4, info.NCPU);
      expect(healthy.resources.limits).toEqual({
        requested: { memory: '2GB', memoryBytes: 2 * 1024 ** 3, cpu: '4 cores', cpuCores: 4 },
        applied: {
          memory: '2GB',
          memoryBytes: 2 * 1024 ** 3,
          cpu: `${cpus} ${cpus === 1 ? 'core' : 'cores'}`,
          cpuCores: cpus,
        },
        reason: info.NCPU < 4 ? expect.stringContaining(`has ${info.NCPU} cores`) : null,
      });
      expect(healthy.resources.cpu.allocated).toBe(`${cpus} ${cpus === 1 ? 'core' : 'cores'}`);
      const config = await service.api('GET', '/api/generations/spec-default/preview/config');
      expect(config.json.limits).toMatchObject({
        cpuCores: cpus,
        memoryMb: 2048,
        requested: { cpu: '4 cores' },
      });
      const answer = await request('spec-default', '/api/items');
      expect(answer.json).toMatchObject({ statusCode: 200 });
    });
  },
);
