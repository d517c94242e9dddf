import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { DockerImageBuilder } from '#adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { nodeAppHttpClient } from '#adapters/node-app-http-client.js';
import { PreviewLauncher } from '#core/services/preview-launcher.js';
import type { PreviewTaskDefinition } from '#core/task-definition.js';
import type { RunningTask } from '#core/task-runner.js';
import { defaultTiers, type TierName } from '#core/tiers.js';
import { docker, dockerMissing, leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { previewServiceOn } from '../support/preview-service.js';

/** Runs tasks as given, except without the loopback bridge: what an app is without it. */
class UnbridgedDockerTaskRunner extends DockerTaskRunner {
  override run(task: PreviewTaskDefinition): Promise<RunningTask> {
    return super.run({ ...task, containers: task.containers.filter((c) => c.name !== 'bridge') });
  }
}

const generations = new DirectoryGenerationStore('test/fixtures/generations');
const mib = 1024 * 1024;
let db: TestDynamoDb;
/** Each preview launched, with the runner that holds its bridge. */
const launched: { previewId: string; runner: DockerTaskRunner }[] = [];

/** Launches a fixture generation through the launcher on the real engine, to healthy or failed. */
async function launch(generationId: string, options: { tier?: TierName; runner?: DockerTaskRunner } = {}) {
  const runner = options.runner ?? new DockerTaskRunner(docker);
  const { service, stateMachine, previews } = previewServiceOn(db, { generations });
  const launcher = new PreviewLauncher({
    previews,
    generations,
    stateMachine,
    imageBuilder: new DockerImageBuilder(docker),
    runner,
    tiers: defaultTiers,
    clock: { now: () => new Date() },
    client: nodeAppHttpClient,
  });
  const tier = options.tier ?? 'free';
  const userId = `reach-${generationId}-${Date.now().toString(36)}`;
  const { body } = await service.launch({ userId, tier }, generationId, {});
  launched.push({ previewId: body.previewInstanceId, runner });
  await launcher.start(body.previewInstanceId);
  const record = await previews.getById(body.previewInstanceId);
  if (!record) throw new Error('the preview is gone');
  return { record, runner };
}

async function get(endpoint: { host: string; port: number } | undefined, path: string) {
  if (!endpoint) throw new Error('no endpoint');
  const response = await fetch(`http://${endpoint.host}:${endpoint.port}${path}`);
  return { status: response.status, json: (await response.json()) as unknown };
}

// Builds, starts and health intervals on an engine shared by other suites: generous time.
describe.skipIf(skipWithoutDocker)(
  'launches of generated apps as generators emit them (Docker)',
  { timeout: 90_000 },
  () => {
    beforeAll(async () => {
      if (dockerMissing) throw new Error(dockerMissing);
      db = await startTestDynamoDb();
    });
    afterAll(async () => {
      await Promise.all(launched.map(({ previewId, runner }) => runner.stop(previewId)));
      await Promise.all(launched.map(({ runner }) => runner.close()));
      await db?.close();
    });

    it('makes the spec-default entry point `uvicorn app.main:app` healthy and reachable', async () => {
      const { record } = await launch('spec-default');
      expect(record).toMatchObject({ status: 'healthy' });
      expect(await get(record.endpoint, '/api/items')).toEqual({
        status: 200,
        json: [{ id: 1, name: 'first' }],
      });
    });

    it('reaches an app bound to 127.0.0.1:8080 in its code through the loopback bridge', async () => {
      const { record } = await launch('loopback-in-code');
      expect(record).toMatchObject({ status: 'healthy' });
      expect(await get(record.endpoint, '/api/items')).toEqual({
        status: 200,
        json: [{ id: 1, name: 'reached through the bridge' }],
      });
    });

    it('never calls that app healthy without the bridge: it fails naming 127.0.0.1:8080', async () => {
      const { record } = await launch('loopback-in-code', { runner: new UnbridgedDockerTaskRunner(docker) });
      expect(record).toMatchObject({ status: 'failed', failure: { step: 'app', reason: 'loopback_only' } });
      expect(record.failure?.message).toContain('127.0.0.1:8080');
      expect(record.failure?.message).toContain('0.0.0.0');
      expect(record.healthyAt).toBeUndefined();
      expect(record.failure?.lastLines?.join('\n')).toContain('Uvicorn running on http://127.0.0.1:8080');
      expect(await leftovers(record.previewId)).toEqual([]);
    });

    it('reaches an app listening on another port than generation.json says through the bridge', async () => {
      const { record } = await launch('port-in-code');
      expect(record).toMatchObject({ status: 'healthy' });
      expect(await get(record.endpoint, '/api/items')).toEqual({
        status: 200,
        json: [{ id: 1, name: 'reached on port 8000' }],
      });
    });

    it('without the bridge, fails that app naming the port it listens on', { timeout: 60_000 }, async () => {
      // It never answers on its port inside the task either: the runner gives up after its step time.
      const runner = new UnbridgedDockerTaskRunner(docker, { stepTimeoutMs: 10_000 });
      const { record } = await launch('port-in-code', { runner });
      expect(record).toMatchObject({ status: 'failed', failure: { step: 'app', reason: 'port_mismatch' } });
      expect(record.failure?.message).toContain('The app listens on port 5000 (0.0.0.0:5000)');
      expect(await leftovers(record.previewId)).toEqual([]);
    });

    it('fails a health endpoint answering 404, naming routes from the app’s OpenAPI document', async () => {
      const { record } = await launch('missing-health');
      expect(record).toMatchObject({
        status: 'failed',
        failure: { step: 'app', reason: 'health_not_found' },
      });
      expect(record.failure?.message).toContain('GET /health answered 404');
      expect(record.failure?.message).toContain('GET /api/status');
      expect(record.failure?.message).toContain('POST /api/items');
      expect(await leftovers(record.previewId)).toEqual([]);
    });

    it('fails an app that cannot import its module, naming the module, file and line', async () => {
      const { record } = await launch('import-error');
      expect(record).toMatchObject({ status: 'failed', failure: { step: 'app', reason: 'import_error' } });
      expect(record.failure?.message).toMatch(/No module named 'app\.helpers'/);
      expect(record.failure?.message).toContain('/app/app/main.py line 3');
      expect(await leftovers(record.previewId)).toEqual([]);
    });

    it('runs an enterprise preview on a smaller engine with limits fitted to it, and says so', async () => {
      const { record, runner } = await launch('spec-default', { tier: 'enterprise' });
      const capacity = await runner.capacity();
      expect(record.status).toBe('healthy');
      expect(record.resources).toMatchObject({ cpu: 4, memoryMb: 2048 });
      const cpu = Math.min(4, capacity.cpus);
      const memoryMb = Math.min(2048, capacity.memoryMb);
      expect(record.appliedLimits ?? { cpu: 4, memoryMb: 2048 }).toMatchObject({ cpu, memoryMb });
      if (capacity.cpus < 4) expect(record.appliedLimits?.reason).toContain(`has ${capacity.cpus} cores`);
      const [app] = await docker.listContainers({
        filters: { label: [`preview.id=${record.previewId}`, 'preview.container=app'] },
      });
      const inspected = await docker.getContainer(app!.Id).inspect();
      expect(inspected.HostConfig.NanoCpus).toBe(cpu * 1e9);
      expect(inspected.HostConfig.Memory).toBe(memoryMb * mib);
    });
  },
);
