import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { DockerImageBuilder } from '#adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { generationSchema, parseGenerationSource } from '#core/generation.js';
import { newDatabasePassword, newPreviewId } from '#core/ids.js';
import { buildTaskDefinition, type PreviewTaskDefinition } from '#core/task-definition.js';
import { taskFailureOf, type RunningTask } from '#core/task-runner.js';
import { defaultTiers } from '#core/tiers.js';
import { docker, dockerMissing, leftovers, skipWithoutDocker } from '../support/docker.js';

const generations = new DirectoryGenerationStore('examples/generations');
const builder = new DockerImageBuilder(docker);
const runner = new DockerTaskRunner(docker, { stepTimeoutMs: 60_000, appAddress: 'container' });
const previewIds: string[] = [];
const mib = 1024 * 1024;

/** A fresh task of an example generation on the free tier, with an id unique to this run. */
async function taskOf(name: string): Promise<PreviewTaskDefinition> {
  const source = await generations.load(name);
  if (!source) throw new Error(`example generation ${name} is missing`);
  const { imageRef } = await builder.ensureImage(source, () => {});
  const previewId = newPreviewId(new Date());
  previewIds.push(previewId);
  return buildTaskDefinition({
    previewId,
    generation: source.generation,
    tier: defaultTiers.free,
    appImage: imageRef,
    databasePassword: newDatabasePassword(),
  });
}

async function containerOf(previewId: string, name: string): Promise<Docker.ContainerInspectInfo> {
  const [found] = await docker.listContainers({
    all: true,
    filters: { label: [`preview.id=${previewId}`, `preview.container=${name}`] },
  });
  if (!found) throw new Error(`no ${name} container for ${previewId}`);
  return docker.getContainer(found.Id).inspect();
}

function url(running: RunningTask, path: string): string {
  if (!running.endpoint) throw new Error('the task has no endpoint');
  return `http://${running.endpoint.host}:${running.endpoint.port}${path}`;
}

/** Reads until `done` holds, for at most 20 s. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function elapsed<T>(what: string, action: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await action();
  } finally {
    console.info(`${what}: ${Math.round(performance.now() - start)} ms`);
  }
}

describe.skipIf(skipWithoutDocker)('Docker image builder and task runner', () => {
  beforeAll(() => {
    if (dockerMissing) throw new Error(dockerMissing);
  });
  afterAll(async () => {
    await Promise.all(previewIds.map((id) => runner.stop(id)));
    await runner.close();
  });

  it('builds an image once, then finds it by its content hash', { timeout: 120_000 }, async () => {
    const source = await generations.load('todo-postgres');
    if (!source) throw new Error('example generation todo-postgres is missing');
    const first = await builder.ensureImage(source, () => {});
    // Cold: without the tag, every step runs again.
    await docker.getImage(first.imageRef).remove({ force: true });

    const lines: string[] = [];
    const cold = await elapsed('cold build', () => builder.ensureImage(source, (line) => lines.push(line)));
    expect(cold).toEqual({ imageRef: first.imageRef, cached: false });
    expect(cold.imageRef).toMatch(/^preview-app:[0-9a-f]{64}$/);
    expect(lines.some((line) => line.includes('pip install'))).toBe(true);

    const again = await builder.ensureImage(source, () => {});
    expect(again).toEqual({ imageRef: cold.imageRef, cached: true });
  });

  it('builds a generation without a Dockerfile from the generated one', { timeout: 120_000 }, async () => {
    const manifest = {
      id: 'no-dockerfile-inline',
      projectId: 'p',
      dbType: 'none',
      entryPoint: 'uvicorn app.main:app',
      port: 8080,
    };
    const source = parseGenerationSource(
      manifest.id,
      new Map([
        ['generation.json', Buffer.from(JSON.stringify(manifest))],
        ['requirements.txt', Buffer.from('fastapi\nuvicorn\n')],
        ['app/__init__.py', Buffer.from('')],
        ['app/main.py', Buffer.from('from fastapi import FastAPI\napp = FastAPI()\n')],
      ]),
    );
    const lines: string[] = [];
    const built = await builder.ensureImage(source, (line) => lines.push(line));
    expect(lines.some((line) => line.includes('pip install --no-cache-dir -r requirements.txt'))).toBe(
      !built.cached,
    );
    const { Config } = await docker.getImage(built.imageRef).inspect();
    expect(Config.User).toBe('65534:65534');
    expect(Config.WorkingDir).toBe('/app');
    expect(Object.keys(Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
    expect(Config.Env).toEqual(
      expect.arrayContaining([
        'UVICORN_HOST=0.0.0.0',
        'UVICORN_PORT=8080',
        'GUNICORN_CMD_ARGS=--bind 0.0.0.0:8080',
      ]),
    );
    expect(Config.Cmd).toEqual(['sh', '-c', 'uvicorn app.main:app']);
  });

  it('fails a build with the step’s exit code and last lines', async () => {
    // Past ustar's 100-byte names and 155-byte prefixes: carried in a PAX header.
    const nested = `${'deep/'.repeat(60)}hello-from-a-generated-app-with-a-long-file-name.txt`;
    const dockerfile = `FROM python:3.11-slim\nCOPY . /src\nRUN cat /src/${nested} && exit 3\n`;
    const generation = generationSchema.parse({
      id: 'broken-build',
      projectId: 'p',
      dbType: 'none',
      entryPoint: 'true',
    });
    const files = new Map([
      ['Dockerfile', Buffer.from(dockerfile)],
      [nested, Buffer.from('copied from deep down')],
    ]);
    const error = await builder
      .ensureImage({ generation, files }, () => {})
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(taskFailureOf(error)).toMatchObject({ step: 'build', reason: 'build_error', exitCode: 3 });
    expect(taskFailureOf(error)?.lastLines.join('\n')).toContain('copied from deep down');
  });

  describe('todo-postgres, launched end to end', () => {
    let task: PreviewTaskDefinition;
    let running: RunningTask;

    beforeAll(async () => {
      task = await taskOf('todo-postgres');
      running = await elapsed('cached launch of todo-postgres to app healthy', () => runner.run(task));
    });

    it('ran the database, the migration and the seed, and the app is healthy', async () => {
      const description = await runner.describe(task.previewId);
      expect(description?.taskId).toBe(running.taskId);
      expect(description?.endpoint).toEqual(running.endpoint);
      const containers = description?.containers ?? [];
      const of = (name: string) => containers.find((c) => c.name === name);
      expect(containers.map((c) => c.name)).toEqual(['database', 'migrate', 'seed', 'app', 'bridge']);
      // Docker's own first health probe comes one interval after start; the runner probed sooner.
      expect(['running', 'healthy'], 'database').toContain(of('database')?.state);
      expect(of('migrate')).toMatchObject({ state: 'exited', exitCode: 0 });
      expect(of('seed')).toMatchObject({ state: 'exited', exitCode: 0 });
      expect(['running', 'healthy'], 'app').toContain(of('app')?.state);
      // An app on all interfaces needs no bridge: it says so and ends (or is about to).
      const bridge = of('bridge');
      expect(['running', 'exited'], `bridge ${JSON.stringify(bridge)}`).toContain(bridge?.state);
      if (bridge?.state === 'exited') expect(bridge.exitCode).toBe(0);
      // Reached at the namespace owner's address on the preview's bridge: nothing is published.
      const owner = await containerOf(task.previewId, 'database');
      expect(running.endpoint).toEqual({
        host: owner.NetworkSettings.Networks[owner.HostConfig.NetworkMode!]?.IPAddress,
        port: 8000,
      });
      expect(owner.HostConfig.PortBindings ?? {}).toEqual({});
      expect((await fetch(url(running, '/health'))).status).toBe(200);
    });

    it('counts the tables and rows the migration and the seed made, from inside the database', async () => {
      // alembic_version is the migration tool's; users (2 rows) and todos (3 rows) are the app's.
      expect(await runner.countDatabase(task.previewId)).toEqual({ tables: 2, records: 5 });
    });

    it('serves the seeded rows and stores new ones', async () => {
      const seeded = (await (await fetch(url(running, '/todos'))).json()) as { title: string }[];
      expect(seeded.map((t) => t.title)).toEqual([
        'Write the spec',
        'Review the migration',
        'Ship the preview',
      ]);

      const created = await fetch(url(running, '/todos'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Try the preview' }),
      });
      expect(created.status).toBe(201);
      const after = (await (await fetch(url(running, '/todos'))).json()) as { title: string }[];
      expect(after.map((t) => t.title)).toContain('Try the preview');
    });

    it('runs the app with the tier as hard limits, unprivileged and read-only', async () => {
      const app = await containerOf(task.previewId, 'app');
      expect(app.HostConfig).toMatchObject({
        Memory: 256 * mib,
        MemorySwap: 256 * mib,
        NanoCpus: 500_000_000,
        PidsLimit: 256,
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Init: true,
      });
      expect(app.HostConfig.CapAdd ?? []).toEqual([]);
      expect(app.Config.User).toBe('65534:65534');

      const database = await containerOf(task.previewId, 'database');
      expect(database.HostConfig).toMatchObject({
        CapDrop: ['ALL'],
        Memory: 256 * mib,
        NanoCpus: 500_000_000,
      });
      expect(database.HostConfig.CapAdd ?? []).toEqual([]);
      expect(database.Config.User).toBe('999:999');
      // One namespace for the task, as in awsvpc: the app reaches the database on localhost.
      expect(app.HostConfig.NetworkMode).toBe(`container:${database.Id}`);
    });

    it('leaves the app’s HTTP check to the runner and the health monitor, the database’s to the engine', async () => {
      // The engine would run python3 in every app container each interval, for nothing.
      expect((await containerOf(task.previewId, 'app')).Config.Healthcheck?.Test).toEqual(['NONE']);
      const { Healthcheck: check } = (await containerOf(task.previewId, 'database')).Config;
      expect(check?.Test?.[0]).toMatch(/^CMD/);
    });

    it('reports the app healthy to a runner that did not start it, as the engine’s verdict would', async () => {
      // What a restarted service sees when it takes over a task its predecessor started.
      const takenOver = new DockerTaskRunner(docker);
      const appState = async (checkApp: boolean) =>
        (await takenOver.describe(task.previewId, { checkApp }))?.containers.find((c) => c.name === 'app')
          ?.state;
      expect(await appState(true)).toBe('healthy');
      // Unasked, it reads the engine only: the health monitor probes the app itself.
      expect(await appState(false)).toBe('running');
    });

    it('ends the loopback bridge of an app that listens on all interfaces', async () => {
      const bridge = await until(
        () => containerOf(task.previewId, 'bridge'),
        (c) => !c.State.Running,
      );
      expect(bridge.State.ExitCode).toBe(0);
      const [found] = await docker.listContainers({
        all: true,
        filters: { label: [`preview.id=${task.previewId}`, 'preview.container=bridge'] },
      });
      const logs = (await docker.getContainer(found!.Id).logs({ stdout: true, stderr: true })).toString(
        'utf8',
      );
      expect(logs).toContain('nothing to bridge');
      expect(bridge.HostConfig.NetworkMode).toBe(
        `container:${(await containerOf(task.previewId, 'database')).Id}`,
      );
      expect(bridge.Config.User).toBe('65534:65534');
    });

    it('reports the app container’s resource use', async () => {
      const stats = await runner.stats(task.previewId);
      expect(stats?.memoryLimitBytes).toBe(256 * mib);
      expect(stats?.memoryUsedBytes).toBeGreaterThan(0);
      expect(stats?.networkRxBytes).toBeGreaterThan(0);
      // CPU is what the app spent between two readings: requests keep it busy until one shows it.
      const busyCores = async () => {
        await Promise.all(
          Array.from({ length: 20 }, () => fetch(url(running, '/todos')).then((r) => r.text())),
        );
        return (await runner.stats(task.previewId))?.cpuCores ?? 0;
      };
      await expect.poll(busyCores, { timeout: 20_000, interval: 0 }).toBeGreaterThan(0);
      // In cores, not percent: at most the machine's.
      expect(await busyCores()).toBeLessThanOrEqual(cpus().length);
    });

    it('stops: containers and volumes gone once stop returns, and again without complaint', async () => {
      await elapsed('stop of todo-postgres', () => runner.stop(task.previewId));
      expect(await leftovers(task.previewId)).toEqual([]);
      expect(await runner.describe(task.previewId)).toBeUndefined();
      expect(await runner.stats(task.previewId)).toBeUndefined();
      expect(await runner.countDatabase(task.previewId)).toBeUndefined();
      await runner.stop(task.previewId);
    });
  });

  it('publishes the app on 127.0.0.1 for engines whose containers the host cannot reach', async () => {
    const task = await taskOf('hello-api');
    const published = new DockerTaskRunner(docker, { stepTimeoutMs: 60_000, appAddress: 'published' });
    const running = await published.run(task);
    expect(running.endpoint?.host).toBe('127.0.0.1');
    expect((await fetch(url(running, '/health'))).status).toBe(200);
    // Any runner reads the endpoint from the task itself, whichever way it was started.
    expect((await runner.describe(task.previewId))?.endpoint).toEqual(running.endpoint);
    await published.stop(task.previewId);
    await published.close();
  });

  it('gives a preview its bridge back when it runs again; a restarted service takes the bridges over', async () => {
    const owner = `test-${randomBytes(6).toString('hex')}`;
    const options = { owner, stepTimeoutMs: 60_000, appAddress: 'container' } as const;
    const first = new DockerTaskRunner(docker, options);
    const task = await taskOf('hello-api');
    await first.run(task);
    const bridge = (await containerOf(task.previewId, 'app')).HostConfig.NetworkMode;
    expect(bridge).toMatch(/^pv-[0-9a-f]{12}$/);
    await first.stop(task.previewId);
    expect(first.freeBridgeCount()).toBe(1);

    const running = await first.run(task);
    expect((await containerOf(task.previewId, 'app')).HostConfig.NetworkMode).toBe(bridge);
    expect((await fetch(url(running, '/health'))).status).toBe(200);
    expect(first.freeBridgeCount()).toBe(0);

    // The service restarted: its new runner finds the task on its bridge, and frees it once stopped.
    const second = new DockerTaskRunner(docker, options);
    await second.stop(task.previewId);
    expect(second.freeBridgeCount()).toBe(1);
    await second.close();
    await first.close();
    expect(await docker.listNetworks({ filters: { label: [`preview.owner=${owner}`] } })).toEqual([]);
  });

  it('launches an app without a database, and refuses a second task of the same preview', async () => {
    const task = await taskOf('hello-api');
    const running = await elapsed('cached launch of hello-api to app healthy', () => runner.run(task));
    expect((await fetch(url(running, '/health'))).status).toBe(200);

    await expect(runner.run(task)).rejects.toMatchObject({ code: 'conflict' });
    expect((await fetch(url(running, '/health'))).status).toBe(200);
    expect(await runner.countDatabase(task.previewId)).toBeUndefined();
    await runner.stop(task.previewId);
  });

  it('reads the task’s listening sockets and the engine’s capacity', async () => {
    const task = await taskOf('hello-api');
    await runner.run(task);
    expect(await runner.listeners(task.previewId)).toContainEqual({ address: '0.0.0.0', port: 8000 });
    expect(await runner.lastLines(task.previewId, 'app')).toEqual(
      expect.arrayContaining([expect.stringContaining('Uvicorn running on http://0.0.0.0:8000')]),
    );
    const info = await docker.info();
    expect(await runner.capacity()).toEqual({ cpus: info.NCPU, memoryMb: Math.floor(info.MemTotal / mib) });
    await runner.stop(task.previewId);
    expect(await runner.listeners(task.previewId)).toBeUndefined();
  });

  describe('a task whose app image is still being built', () => {
    /** The task's containers that exist, by name, and whether each is running. */
    const containersOf = async (previewId: string) =>
      Object.fromEntries(
        (await docker.listContainers({ all: true, filters: { label: [`preview.id=${previewId}`] } })).map(
          (c) => [c.Labels['preview.container'], c.State],
        ),
      );
    const building = (task: PreviewTaskDefinition) => {
      let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
      const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      const imageRef = task.containers.find((c) => c.name === 'app')!.image;
      return { pending: { imageRef, ready }, settle: settle! };
    };

    it('starts the database meanwhile, and the containers of the image once it exists', async () => {
      const task = await taskOf('todo-postgres');
      const { pending, settle } = building(task);
      const run = runner.run(task, undefined, pending);
      const early = await until(
        () => containersOf(task.previewId),
        (found) => found.database === 'running',
      );
      // Nothing of the app image exists before the image does.
      expect(early).toEqual({ database: 'running' });
      settle.resolve();
      const running = await run;
      expect((await fetch(url(running, '/health'))).status).toBe(200);
      expect(Object.keys(await containersOf(task.previewId)).sort()).toEqual([
        'app',
        'bridge',
        'database',
        'migrate',
        'seed',
      ]);
      await runner.stop(task.previewId);
      expect(await leftovers(task.previewId)).toEqual([]);
    });

    it('ends with the build’s failure and leaves nothing behind', async () => {
      const task = await taskOf('todo-postgres');
      const { pending, settle } = building(task);
      const run = runner.run(task, undefined, pending).then(
        () => undefined,
        (e: unknown) => e,
      );
      await until(
        () => containersOf(task.previewId),
        (found) => found.database === 'running',
      );
      const failure = new Error('the build failed');
      settle.reject(failure);
      expect(await run).toBe(failure);
      expect(await leftovers(task.previewId)).toEqual([]);
    });
  });

  it('fails a broken migration with its error and leaves nothing behind', async () => {
    const task = await taskOf('broken-migration');
    const error = await runner.run(task).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(taskFailureOf(error)).toMatchObject({ step: 'migrate', reason: 'exit_nonzero', exitCode: 1 });
    expect(taskFailureOf(error)?.lastLines.join('\n')).toContain('relation "user" does not exist');
    expect(await leftovers(task.previewId)).toEqual([]);
  });

  it('reports an app killed for memory as out of memory, and leaves nothing behind', async () => {
    const task = await taskOf('memory-hog');
    const error = await runner.run(task).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(taskFailureOf(error)).toMatchObject({ step: 'app', reason: 'out_of_memory' });
    expect(await leftovers(task.previewId)).toEqual([]);
  });
});
