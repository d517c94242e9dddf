import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '#core/clock.js';
import { docker, leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, until, type TestService } from '../support/local-service.js';

let service: TestService;

/** The service's clock, moved forward by tests to reach the end of a session without waiting. */
let skewMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + skewMs) };

beforeAll(async () => {
  if (skipWithoutDocker) return;
  service = await startTestService({
    tier: 'free',
    env: { PREVIEW_SWEEP_SECONDS: '1', PREVIEW_RESOURCE_TIER_FREE: '{"maxExtensions": 2}' },
    clock,
  });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
});

// Each test launches the preview it needs and leaves none: none depends on another's.
afterEach(async () => {
  if (skipWithoutDocker) return;
  skewMs = 0;
  await service.api('DELETE', '/api/generations/hello-api/preview');
});

const api: TestService['api'] = (...args) => service.api(...args);
const status = (generationId: string) => service.status(generationId);

async function launchHealthy(generationId: string) {
  const launch = await service.launch(generationId);
  expect(launch.status).toBe(202);
  expect(launch.settled.status).toBe('healthy');
  return { token: launch.json.previewToken as string, previewId: launch.json.previewInstanceId as string };
}

describe.skipIf(skipWithoutDocker)(
  'preview lifecycle on the local Docker engine',
  { timeout: 180_000 },
  () => {
    it('recovers a killed app with a new task and a new token, and records it', async () => {
      const { token: firstToken, previewId } = await launchHealthy('hello-api');
      const proxied = (previewToken: string) =>
        api('GET', '/api/generations/hello-api/preview/proxy/health', undefined, {
          'x-preview-token': previewToken,
        });
      expect((await proxied(firstToken)).status).toBe(200);

      const [app] = await docker.listContainers({
        filters: { label: [`preview.id=${previewId}`, 'preview.container=app'] },
      });
      if (!app) throw new Error('no app container');
      await docker.getContainer(app.Id).kill();

      // Recovery is over when its last event is recorded; the preview is healthy from then on.
      const events = await until(
        60,
        async () =>
          (await api('GET', '/api/generations/hello-api/preview/events?limit=100')).json.events as {
            type: string;
          }[],
        (list) => list.some((e) => e.type === 'recovered'),
      );
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['recovering', 'token_rotated', 'recovered']),
      );
      expect((await status('hello-api')).status).toBe('healthy');

      expect((await proxied(firstToken)).status).toBe(403);
      // Twenty rotations in a row while the service samples and checks the preview: every one answers 200.
      const rotations = [];
      for (let i = 0; i < 20; i++)
        rotations.push(await api('POST', '/api/generations/hello-api/preview/token'));
      expect(rotations.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
      const latest = rotations.at(-1)?.json.previewToken as string;
      expect((await proxied(latest)).status).toBe(200);
      expect((await proxied(rotations[0]?.json.previewToken as string)).status).toBe(403);
    });

    it('extends a session up to the tier limit, then refuses with 409 extension_limit_reached', async () => {
      await launchHealthy('hello-api');
      const before = await status('hello-api');
      const first = await api('POST', '/api/generations/hello-api/preview/extend', { duration: 1800 });
      expect(first.status).toBe(200);
      expect(first.json).toEqual({
        status: 'extended',
        newExpiresAt: new Date(Date.parse(before.expiresAt) + 1800_000).toISOString(),
        extensionsRemaining: 1,
        maxExtensions: 2,
      });
      // One extension left, two concurrent requests for it: one gets it, the other a refusal.
      const racing = await Promise.all([
        api('POST', '/api/generations/hello-api/preview/extend', {}),
        api('POST', '/api/generations/hello-api/preview/extend', {}),
      ]);
      expect(racing.map((r) => r.status).sort()).toEqual([200, 409]);
      const refused = racing.find((r) => r.status === 409);
      expect(refused?.json.error).toMatchObject({
        code: 'extension_limit_reached',
        details: { maxExtensions: 2 },
      });
      const tooLong = await api('POST', '/api/generations/hello-api/preview/extend', { duration: 7200 });
      expect(tooLong.status).toBe(400);
    });

    it('expires a preview when its session ends, leaving nothing running', async () => {
      await launchHealthy('hello-api');
      const { expiresAt, previewInstanceId } = await status('hello-api');
      skewMs = Date.parse(expiresAt) - Date.now() + 1000;
      const ended = await until(
        30,
        () => status('hello-api'),
        (s) => s.status === 'stopped',
      );
      skewMs = 0;
      expect(ended.status).toBe('stopped');
      expect(await leftovers(previewInstanceId)).toEqual([]);
      // The final event is written just after the status.
      const events = await until(
        30,
        async () => (await api('GET', '/api/generations/hello-api/preview/events?limit=100')).json.events,
        (list: { type: string }[]) => list.at(-1)?.type === 'expired',
      );
      expect(events.at(-1)).toMatchObject({ type: 'expired', actor: { type: 'system', id: 'sweeper' } });
    });

    it('removes a container that carries a preview label but has no preview, within one sweep', async () => {
      // The sweeper only looks after its own runtime's resources: the orphan carries its owner label.
      const { previewId } = await launchHealthy('hello-api');
      const [app] = await docker.listContainers({ filters: { label: [`preview.id=${previewId}`] } });
      const owner = app?.Labels['preview.owner'];
      expect(owner).toMatch(/^local-/);
      const orphanId = `preview_${Date.now().toString(36).padStart(9, '0')}feedfacefeedface`;
      const container = await docker.createContainer({
        Image: 'python:3.11-slim',
        Cmd: ['sleep', '300'],
        Labels: { 'preview.id': orphanId, 'preview.managed': 'true', 'preview.owner': owner ?? 'unknown' },
        HostConfig: { NetworkMode: 'none' },
      });
      await container.start();
      try {
        const left = await until(
          30,
          () => leftovers(orphanId),
          (l) => l.length === 0,
        );
        expect(left).toEqual([]);
      } finally {
        await container.remove({ force: true }).catch(() => undefined);
      }
    });
  },
);
