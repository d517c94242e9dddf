import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  snapshotBuildFiles,
  snapshotBuildPlan,
  snapshotBuildScript,
} from '#adapters/aws/database-snapshot-build.js';
import { snapshotDataPath } from '#adapters/aws/ecr-snapshot-images.js';
import { generationSchema } from '#core/generation.js';
import { buildTaskDefinition } from '#core/task-definition.js';
import { defaultTiers } from '#core/tiers.js';
import { docker, skipWithoutDocker } from '../support/docker.js';

/**
 * The snapshot build's script as CodeBuild runs it (without the push), on the local engine: the
 * image it builds must start, with a new password and a new volume mounted on its data as the
 * restored task mounts it, holding what migrate and seed wrote.
 */
const run = promisify(execFile);
const suffix = randomUUID().slice(0, 8);
const image = `preview-db-snapshot-build-test:${suffix}`;
const volume = `preview-db-snapshot-build-test-${suffix}`;
const seedSecret = `sk-${randomUUID()}`;
const buildPassword = `build-${randomUUID()}`;
let workDir = '';
let output = '';
const restored = { container: undefined as string | undefined };

const generation = generationSchema.parse({
  id: 'snapshot-build',
  projectId: 'p1',
  dbType: 'postgresql',
  entryPoint: 'python3 -m http.server',
  requiresMigrations: true,
  migrationCommand: 'psql -v ON_ERROR_STOP=1 -c "create table notes (body text)"',
  seedDataIncluded: true,
  // A seed that prints the secret it reads: the build's output must not show it.
  seedCommand:
    'echo "seeding with $SEED_API_KEY" && psql -v ON_ERROR_STOP=1 -c "insert into notes values (\'$SEED_API_KEY\')"',
  env: { SEED_API_KEY: seedSecret },
});

beforeAll(async () => {
  if (skipWithoutDocker) return;
  workDir = await mkdtemp(path.join(tmpdir(), 'snapshot-build-'));
  // The database image plays the app too: it has psql.
  const task = buildTaskDefinition({
    previewId: `prv-snapshot-${suffix}`,
    generation,
    tier: defaultTiers.pro,
    appImage: 'postgres:15',
    databasePassword: buildPassword,
  });
  const built = snapshotBuildPlan(task);
  if (!built) throw new Error('the task has steps to snapshot');
  await writeFile(path.join(workDir, snapshotBuildFiles.plan), JSON.stringify(built.plan));
  await writeFile(path.join(workDir, snapshotBuildFiles.script), snapshotBuildScript);
  const { stdout, stderr } = await run(
    'python3',
    [snapshotBuildFiles.script, snapshotBuildFiles.plan, image],
    {
      cwd: workDir,
      env: { ...process.env, ...Object.fromEntries(built.secrets.map((s) => [s.variable, s.value])) },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  output = stdout + stderr;
}, 240_000);

afterAll(async () => {
  if (skipWithoutDocker) return;
  if (restored.container) await docker.getContainer(restored.container).remove({ force: true, v: true });
  await docker
    .getVolume(volume)
    .remove()
    .catch(() => undefined);
  await docker
    .getImage(image)
    .remove({ force: true })
    .catch(() => undefined);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function exec(container: string, command: string[]): Promise<{ exitCode: number; output: string }> {
  const execution = await docker.getContainer(container).exec({
    Cmd: command,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await execution.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.on('end', resolve));
  const framed = Buffer.concat(chunks);
  // Without a TTY the output is framed: 8-byte headers before each chunk.
  const text: Buffer[] = [];
  for (let offset = 0; offset + 8 <= framed.length;) {
    const size = framed.readUInt32BE(offset + 4);
    text.push(framed.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  const { ExitCode } = await execution.inspect();
  return { exitCode: ExitCode ?? -1, output: Buffer.concat(text).toString('utf8') };
}

describe.skipIf(skipWithoutDocker)('the snapshot build script', () => {
  it('reports each step and never prints a secret value', () => {
    expect(output).toContain('database: ready');
    expect(output).toContain('migrate: done');
    expect(output).toContain('seeding with ***');
    expect(output).toContain('snapshot image: built');
    expect(output).not.toContain(seedSecret);
    expect(output).not.toContain(buildPassword);
  });

  it('leaves no container of its own behind', async () => {
    const containers = await docker.listContainers({ all: true });
    const names = containers.flatMap((c) => c.Names);
    expect(names.filter((n) => /^\/snapshot-[0-9a-f]{8}-/.test(n))).toEqual([]);
  });

  it('builds an image that declares its data a volume and carries no variable of the build', async () => {
    const inspected = await docker.getImage(image).inspect();
    expect(Object.keys(inspected.Config.Volumes ?? {})).toContain(snapshotDataPath);
    expect(inspected.Config.Env).toContain(`PGDATA=${snapshotDataPath}/pgdata`);
    const env = (inspected.Config.Env ?? []).join('\n');
    expect(env).not.toContain(buildPassword);
    expect(env).not.toContain(seedSecret);
    expect(env).not.toContain('POSTGRES_PASSWORD');
  });

  it('starts as the restored task runs it, with another password, holding what migrate and seed wrote', async () => {
    const task = buildTaskDefinition({
      previewId: `prv-restored-${suffix}`,
      generation,
      tier: defaultTiers.pro,
      appImage: 'postgres:15',
      databasePassword: `launch-${randomUUID()}`,
      databaseSnapshot: { image, dataPath: snapshotDataPath, restoredOn: 'volume' },
    });
    expect(task.containers.map((c) => c.name)).toEqual(['database', 'app', 'bridge']);
    const database = task.containers.find((c) => c.name === 'database');
    if (!database) throw new Error('the restored task has a database');
    const [mount] = database.mountPoints;
    // A new, empty volume on the image's data: the engine copies the data in, as Fargate does for
    // a bind mount on a path the image declares a VOLUME.
    const container = await docker.createContainer({
      Image: database.image,
      Cmd: [...(database.command ?? [])],
      Env: Object.entries(database.environment).map(([name, value]) => `${name}=${value}`),
      User: database.user,
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [{ Type: 'volume', Source: volume, Target: mount?.containerPath ?? '' }],
      },
    });
    restored.container = container.id;
    await container.start();
    const ready = ['pg_isready', '-q', '-h', '127.0.0.1', '-U', 'preview', '-d', 'preview'];
    for (let attempt = 0; (await exec(container.id, ready)).exitCode !== 0; attempt++) {
      if (attempt > 600) throw new Error('the restored database did not get ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const query = await exec(container.id, [
      'psql',
      '-h',
      '127.0.0.1',
      '-U',
      'preview',
      '-d',
      'preview',
      '-tAc',
      'select body from notes',
    ]);
    expect(query).toEqual({ exitCode: 0, output: `${seedSecret}\n` });
  });
});
