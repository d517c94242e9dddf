import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { DockerDatabaseSnapshots } from '#adapters/local/docker-database-snapshots.js';
import { DockerImageBuilder } from '#adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { generationSchema } from '#core/generation.js';
import { snapshotKey } from '#core/database-snapshots.js';
import { buildTaskDefinition, defaultDatabaseImages } from '#core/task-definition.js';
import { defaultTiers } from '#core/tiers.js';
import { docker, skipWithoutDocker } from '../support/docker.js';
import { startTestService, until, type TestService } from '../support/local-service.js';

const generationId = 'todo-postgres';
let service: TestService;
/** Snapshot images on the engine before the tests: any other is theirs, removed after them. */
let snapshotsBefore = new Set<string>();
const snapshotImages = async () =>
  (await docker.listImages({ filters: { reference: ['preview-db-snapshot'] } })).map((i) => i.Id);

beforeAll(async () => {
  if (skipWithoutDocker) return;
  snapshotsBefore = new Set(await snapshotImages());
  service = await startTestService({ tier: 'pro', env: { PREVIEW_DB_SNAPSHOTS: 'true' } });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
  for (const id of await snapshotImages()) {
    if (!snapshotsBefore.has(id)) await docker.getImage(id).remove({ force: true });
  }
});

/** The preview's database container, found by its labels. */
async function databaseOf(previewId: string): Promise<Docker.Container> {
  const [found] = await docker.listContainers({
    filters: { label: [`preview.id=${previewId}`, 'preview.container=database'] },
  });
  if (!found) throw new Error(`preview ${previewId} has no running database`);
  return docker.getContainer(found.Id);
}

/** Runs psql in the database container (local socket: trusted, as in the image). */
async function psql(container: Docker.Container, sql: string): Promise<string> {
  const exec = await container.exec({
    Cmd: ['psql', '-U', 'preview', '-d', 'preview', '-At', '-F', '\t', '-c', sql],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.on('end', resolve));
  const output = Buffer.concat(chunks);
  // Without a TTY the output is framed: 8-byte headers before each chunk.
  const text: Buffer[] = [];
  for (let offset = 0; offset + 8 <= output.length;) {
    const size = output.readUInt32BE(offset + 4);
    text.push(output.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  expect((await exec.inspect()).ExitCode).toBe(0);
  return Buffer.concat(text).toString('utf8');
}

/**
 * Every row of every table in the public schema, table by table. Columns filled by `now()` when a
 * row is written hold the moment migrations and seed ran, which differs from one run to the next
 * whatever the snapshot: they are compared by presence (not null), every other column by value.
 */
async function tableContents(container: Docker.Container): Promise<Record<string, string>> {
  const columns = await psql(
    container,
    "select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position",
  );
  const byTable = new Map<string, string[]>();
  for (const line of columns.trim().split('\n')) {
    const [table, column, type] = line.split('\t') as [string, string, string];
    const expression = type.startsWith('timestamp') ? `(${column} is not null)` : column;
    byTable.set(table, [...(byTable.get(table) ?? []), expression]);
  }
  const contents: Record<string, string> = {};
  for (const [table, expressions] of byTable) {
    contents[table] = await psql(container, `select ${expressions.join(', ')} from ${table} order by 1`);
  }
  return contents;
}

/** The key a launch of the example generation gives its database snapshot, as the launcher makes it. */
async function snapshotKeyOf(id: string): Promise<string> {
  const source = await new DirectoryGenerationStore('examples/generations').load(id);
  if (!source) throw new Error(`example generation ${id} is missing`);
  const { generation } = source;
  return snapshotKey({
    appImage: new DockerImageBuilder(docker).imageRefOf(source),
    databaseImage: defaultDatabaseImages.postgresql,
    databaseImageId: (await docker.getImage(defaultDatabaseImages.postgresql).inspect()).Id,
    migrationCommand: generation.migrationCommand,
    seedCommand: generation.seedCommand,
    environment: generation.env,
  });
}

async function launch(body: Record<string, unknown>) {
  const response = await service.launch(generationId, { ...body, restart: true });
  expect(response.settled).toMatchObject({ status: 'healthy' });
  return response.settled as {
    previewInstanceId: string;
    timeline: { step: string; restoredFromSnapshot?: boolean; kind?: string }[];
  };
}

function migrationSteps(status: Awaited<ReturnType<typeof launch>>) {
  return status.timeline
    .filter((s) => s.step === 'migrations' || s.step === 'seed')
    .map((s) => ({ step: s.step, restoredFromSnapshot: s.restoredFromSnapshot ?? false }));
}

describe.skipIf(skipWithoutDocker)(
  'database snapshots on the local Docker engine',
  { timeout: 300_000 },
  () => {
    it('starts a later launch from the snapshot, with the same tables and rows, and runs migrations again when asked', async () => {
      const fresh = await launch({ freshDatabase: true });
      expect(migrationSteps(fresh)).toEqual([
        { step: 'migrations', restoredFromSnapshot: false },
        { step: 'seed', restoredFromSnapshot: false },
      ]);
      const freshContents = await tableContents(await databaseOf(fresh.previewInstanceId));
      expect(Object.keys(freshContents)).toEqual(expect.arrayContaining(['users', 'todos']));

      // Made in the background once the launch is healthy (unless the engine holds it already): the
      // snapshot of this launch's inputs, not any other of the generation's the engine may hold.
      const key = await snapshotKeyOf(generationId);
      const store = new DockerDatabaseSnapshots(docker);
      await until(
        180,
        () => store.find(key),
        (snapshot) => snapshot !== undefined,
      );
      const config = (await service.api('GET', `/api/generations/${generationId}/preview/config`)).json;
      expect(config.databaseSnapshots.snapshots.map((s: { key: string }) => s.key)).toContain(key);
      expect(config.databaseSnapshots).toMatchObject({ enabled: true, maxCount: 20 });

      const restored = await launch({});
      expect(migrationSteps(restored)).toEqual([
        { step: 'migrations', restoredFromSnapshot: true },
        { step: 'seed', restoredFromSnapshot: true },
      ]);
      expect(await tableContents(await databaseOf(restored.previewInstanceId))).toEqual(freshContents);
      // The restored data is in the database container's own layer, on no volume: still counted
      // against the storage allowance (a migrated and seeded cluster holds tens of MB).
      const restoredStats = await new DockerTaskRunner(docker).stats(restored.previewInstanceId);
      expect(restoredStats?.storageUsedBytes).toBeGreaterThan(20 * 1024 * 1024);

      const again = await launch({ freshDatabase: true });
      expect(migrationSteps(again)).toEqual([
        { step: 'migrations', restoredFromSnapshot: false },
        { step: 'seed', restoredFromSnapshot: false },
      ]);
    });

    it('evicts the oldest snapshots beyond the count, and those past the age', async () => {
      // A repository of its own: the engine's other snapshots are not this test's to evict.
      const repository = `preview-db-snapshot-test-${Date.now().toString(36)}`;
      const store = new DockerDatabaseSnapshots(docker, { repository });
      const keys = [`test-evict-${Date.now()}-a`, `test-evict-${Date.now()}-b`];
      const made: string[] = [];
      try {
        for (const key of keys) {
          // A stand-in snapshot: any image with the snapshot labels is one to the store.
          const container = await docker.createContainer({ Image: 'postgres:15', Labels: {} });
          try {
            await container.commit({
              _query: { container: container.id, repo: repository, tag: key },
              _body: {
                Labels: {
                  'preview.db-snapshot': 'true',
                  'preview.db-snapshot.key': key,
                  'preview.generation': 'eviction-test',
                },
              },
            });
            made.push(key);
          } finally {
            await container.remove({ force: true });
          }
          // Image creation times have one-second resolution: the second is the newer.
          await new Promise((resolve) => setTimeout(resolve, 1100));
        }
        expect((await store.list('eviction-test')).map((s) => s.key)).toEqual([keys[1], keys[0]]);

        const now = new Date();
        expect(await store.evict({ maxCount: 1, maxAgeSeconds: 3600, now })).toEqual([keys[0]]);
        expect((await store.list('eviction-test')).map((s) => s.key)).toEqual([keys[1]]);

        await store.evict({ maxCount: 1000, maxAgeSeconds: 1, now: new Date(now.getTime() + 3_600_000) });
        expect(await store.list('eviction-test')).toEqual([]);
      } finally {
        for (const key of made) {
          await docker
            .getImage(`${repository}:${key}`)
            .remove()
            .catch(() => undefined);
        }
      }
    });

    it('cuts off a build when the store closes, leaving none of its containers', async () => {
      const owner = `snapshot-test-${Date.now().toString(36)}`;
      const store = new DockerDatabaseSnapshots(docker, { owner });
      // A seed that never ends: the build is still waiting on it when the store closes.
      const task = buildTaskDefinition({
        previewId: `${owner}-preview`,
        generation: generationSchema.parse({
          id: 'snapshot-cut-off',
          projectId: 'p1',
          dbType: 'postgresql',
          entryPoint: 'sleep 300',
          seedDataIncluded: true,
          seedCommand: 'sleep 300',
        }),
        tier: defaultTiers.pro,
        appImage: 'postgres:15',
        databasePassword: 'cut-off-test',
      });
      const builderContainers = async () =>
        docker.listContainers({ all: true, filters: { label: [`preview.owner=${owner}`] } });
      const capture = store.capture({ key: `${owner}-key`, generationId: 'snapshot-cut-off', task });
      const outcome = capture.then(
        () => 'finished',
        (error: Error) => error.message,
      );
      const names = await until(
        120,
        async () => (await builderContainers()).map((c) => c.Names.join()),
        (found) => found.some((name) => name.endsWith('-seed')),
      );
      expect(names.some((name) => name.endsWith('-seed'))).toBe(true);

      await store.close();
      expect(await outcome).toBe('the service is stopping');
      expect(await builderContainers()).toEqual([]);
      expect(await store.find(`${owner}-key`)).toBeUndefined();
    });

    it("removes the containers of its owner's builds that a killed service left, and no one else's", async () => {
      const owner = `snapshot-test-${Date.now().toString(36)}`;
      const builder = (buildOwner: string) =>
        docker.createContainer({
          Image: 'postgres:15',
          Labels: { 'preview.db-snapshot': 'builder', 'preview.owner': buildOwner },
        });
      const left = await builder(owner);
      const anothers = await builder(`${owner}-another`);
      try {
        await new DockerDatabaseSnapshots(docker, { owner }).removeAbandonedBuilds();
        const remaining = await docker.listContainers({
          all: true,
          filters: { label: ['preview.db-snapshot=builder'] },
        });
        expect(remaining.map((c) => c.Id)).not.toContain(left.id);
        // Another instance's recent build may still be running.
        expect(remaining.map((c) => c.Id)).toContain(anothers.id);
      } finally {
        await Promise.allSettled([left, anothers].map((c) => c.remove({ force: true, v: true })));
      }
    });
  },
);
