import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { ProcessImageBuilder } from '#adapters/local/process-image-builder.js';
import { listenOn, ProcessTaskRunner } from '#adapters/local/process-task-runner.js';
import { unprivilegedUser } from '#local/preview-runtime.js';
import { generationSchema, type GenerationSource } from '#core/generation.js';
import { newDatabasePassword, newPreviewId } from '#core/ids.js';
import { buildTaskDefinition, type PreviewTaskDefinition } from '#core/task-definition.js';
import { taskFailureOf, type RunningTask } from '#core/task-runner.js';
import { defaultTiers, type Tier } from '#core/tiers.js';

/** The runner's children use Debian's interpreter, so Debian's FastAPI and uvicorn must be there. */
const pythonMissing =
  spawnSync('/usr/bin/python3', ['-c', 'import fastapi, uvicorn']).status === 0
    ? undefined
    : 'Debian’s FastAPI is missing: apt-get install -y python3-fastapi uvicorn python3-sqlalchemy';
const skipWithoutPython = pythonMissing !== undefined && process.env.CI !== 'true';
if (skipWithoutPython) console.warn(`Skipping the process task runner tests. ${pythonMissing}`);

const mib = 1024 * 1024;
const generations = new DirectoryGenerationStore('examples/generations');
const output: { previewId: string; container: string; line: string }[] = [];
const runner = new ProcessTaskRunner({
  stepTimeoutMs: 20_000,
  onOutput: (previewId, container, line) => output.push({ previewId, container, line }),
});
const previewIds: string[] = [];
let workDir: string;
let builder: ProcessImageBuilder;

/** A generation made up on the spot: only its manifest and a few files. */
function inlineGeneration(
  manifest: Record<string, unknown>,
  files: Record<string, string> = {},
): GenerationSource {
  const generation = generationSchema.parse({ id: 'inline', projectId: 'p', dbType: 'none', ...manifest });
  const contents = { 'generation.json': JSON.stringify(manifest), ...files };
  return {
    generation,
    files: new Map(Object.entries(contents).map(([path, text]) => [path, Buffer.from(text)])),
  };
}

async function taskOf(
  source: GenerationSource,
  tier: Tier = defaultTiers.free,
): Promise<PreviewTaskDefinition> {
  const { imageRef } = await builder.ensureImage(source, () => {});
  const previewId = newPreviewId(new Date());
  previewIds.push(previewId);
  return buildTaskDefinition({
    previewId,
    generation: source.generation,
    tier,
    appImage: imageRef,
    databasePassword: newDatabasePassword(),
  });
}

async function example(name: string): Promise<GenerationSource> {
  const source = await generations.load(name);
  if (!source) throw new Error(`example generation ${name} is missing`);
  return source;
}

async function failureOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return taskFailureOf(error);
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function url(running: RunningTask, path: string): string {
  if (!running.endpoint) throw new Error('the task has no endpoint');
  return `http://${running.endpoint.host}:${running.endpoint.port}${path}`;
}

describe('listenOn', () => {
  it('points a uvicorn command line at the given port on loopback', () => {
    const entry = 'uvicorn app.main:app --host 0.0.0.0 --port 8000 --no-access-log';
    expect(listenOn(['sh', '-c', entry], 41234)).toEqual([
      'sh',
      '-c',
      'uvicorn app.main:app --host 127.0.0.1 --port 41234 --no-access-log',
    ]);
    expect(listenOn(['sh', '-c', 'cd src && uvicorn main:app --port=$PORT --host=::'], 5)).toEqual([
      'sh',
      '-c',
      'cd src && uvicorn main:app --port=5 --host=127.0.0.1',
    ]);
  });

  it('leaves other commands to PORT and HOST', () => {
    const command = ['sh', '-c', 'flask run --port 8000'];
    expect(listenOn(command, 41234)).toEqual(command);
  });
});

describe.skipIf(skipWithoutPython)('Process image builder and task runner', () => {
  beforeAll(async () => {
    if (pythonMissing) throw new Error(pythonMissing);
    workDir = await mkdtemp(join(tmpdir(), 'process-runner-test-'));
    builder = new ProcessImageBuilder(join(workDir, 'process-builds'));
  });
  afterAll(async () => {
    await Promise.all(previewIds.map((id) => runner.stop(id)));
    await rm(workDir, { recursive: true, force: true });
  });

  it('copies a generation into a folder named by its content hash, once', async () => {
    const source = await example('hello-api');
    const lines: string[] = [];
    const first = await builder.ensureImage(source, (line) => lines.push(line));
    expect(first.cached).toBe(false);
    expect(first.imageRef).toMatch(/\/process-builds\/[0-9a-f]{64}$/);
    expect(lines).toHaveLength(1);
    expect(await readFile(join(first.imageRef, 'app/main.py'))).toEqual(source.files.get('app/main.py'));
    expect(await builder.ensureImage(source, () => {})).toEqual({ imageRef: first.imageRef, cached: true });
  });

  it('refuses files that would land outside the folder, leaving nothing behind', async () => {
    const before = await readdir(join(workDir, 'process-builds'));
    for (const path of ['../escaped.txt', 'app/../../escaped.txt', '/tmp/escaped.txt', '.']) {
      const source = inlineGeneration({ entryPoint: 'true' }, { [path]: 'x' });
      await expect(builder.ensureImage(source, () => {})).rejects.toMatchObject({ code: 'bad_request' });
    }
    expect(await readdir(join(workDir, 'process-builds'))).toEqual(before);
  });

  it('runs hello-api healthy on a free loopback port, and stop closes it', async () => {
    const task = await taskOf(await example('hello-api'));
    const running = await runner.run(task);
    expect(running).toMatchObject({ appHealthy: true, endpoint: { host: '127.0.0.1' } });
    expect(running.endpoint?.port).not.toBe(8000);

    const hello = await fetch(url(running, '/hello/world'));
    expect(hello.status).toBe(200);
    expect(await hello.json()).toMatchObject({ message: 'Hello, world!' });
    // The app logs a request once it has answered it.
    await expect
      .poll(() => output)
      .toContainEqual({
        previewId: task.previewId,
        container: 'app',
        line: expect.stringContaining('"GET /hello/world 200"'),
      });

    const description = await runner.describe(task.previewId);
    expect(description).toMatchObject({ taskId: running.taskId, endpoint: running.endpoint });
    expect(description?.containers).toEqual([
      { name: 'app', state: 'healthy', oomKilled: false, startedAt: expect.any(String) },
    ]);
    const stats = await runner.stats(task.previewId);
    expect(stats?.memoryLimitBytes).toBe(256 * mib);
    expect(stats?.memoryUsedBytes).toBeGreaterThan(10 * mib);
    // CPU is what the app spent between two samples: requests keep it busy until one shows it.
    const busyCores = async () => {
      await Promise.all(
        Array.from({ length: 20 }, () => fetch(url(running, '/hello/world')).then((r) => r.text())),
      );
      return (await runner.stats(task.previewId))?.cpuCores ?? 0;
    };
    await expect.poll(busyCores, { timeout: 20_000, interval: 0 }).toBeGreaterThan(0);
    // In cores, not percent: at most the machine's.
    expect(await busyCores()).toBeLessThanOrEqual(cpus().length);

    await expect(runner.run(task)).rejects.toMatchObject({ code: 'conflict' });
    expect((await fetch(url(running, '/health'))).status).toBe(200);

    await runner.stop(task.previewId);
    expect(await portAccepts(running.endpoint!.port)).toBe(false);
    expect(await runner.describe(task.previewId)).toBeUndefined();
    expect(await runner.stats(task.previewId)).toBeUndefined();
    await runner.stop(task.previewId);
  });

  it('runs migrate and seed in order before the app, on a SQLite file of the preview’s own', async () => {
    const sql = (statement: string) =>
      `python3 -c "import os, sqlite3; db = sqlite3.connect(os.environ['DATABASE_URL'][len('sqlite:///'):]); ${statement}; db.commit()"`;
    const source = inlineGeneration(
      {
        dbType: 'sqlite',
        requiresMigrations: true,
        migrationCommand: sql(`db.execute('create table todo (title text)')`),
        seedDataIncluded: true,
        seedCommand: `${sql(`db.executemany('insert into todo values (?)', [('a',), ('b',)])`)} && echo "seeded $DATABASE_URL"`,
        // No uvicorn: the app learns its port from PORT and HOST; the folder holds a `health` file.
        entryPoint: 'exec python3 -m http.server "$PORT" --bind "$HOST"',
      },
      { health: 'ok' },
    );
    const task = await taskOf(source);
    const running = await runner.run(task);
    expect((await fetch(url(running, '/health'))).status).toBe(200);
    expect(
      (await runner.describe(task.previewId))?.containers.map((c) => [c.name, c.state, c.exitCode]),
    ).toEqual([
      ['migrate', 'exited', 0],
      ['seed', 'exited', 0],
      ['app', 'healthy', undefined],
    ]);
    const seeded = output.find((o) => o.previewId === task.previewId && o.container === 'seed');
    // In a folder of this preview's, not the /tmp every preview would share.
    expect(seeded?.line).toMatch(
      new RegExp(`^seeded sqlite:////.+/${task.previewId}-[^/]+/scratch/preview\\.sqlite3$`),
    );
    const database = seeded!.line.slice('seeded sqlite:///'.length);
    await runner.stop(task.previewId);
    await expect(readFile(database)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails an app that exits 1 with its last lines, and leaves nothing running', async () => {
    const task = await taskOf(
      inlineGeneration({
        entryPoint: 'echo starting up; echo "ImportError: no module named nowhere" >&2; exit 1',
      }),
    );
    const failure = await failureOf(runner.run(task));
    expect(failure).toMatchObject({ step: 'app', reason: 'exit_nonzero', exitCode: 1 });
    expect(failure?.lastLines).toEqual(['starting up', 'ImportError: no module named nowhere']);
    expect(await runner.describe(task.previewId)).toBeUndefined();
  });

  it('kills an app past its memory limit and reports it as out of memory', async () => {
    const hog = `python3 -c "import time; print('allocating', flush=True); hog = b'x' * (256 * 1024 * 1024); time.sleep(60)"`;
    const task = await taskOf(inlineGeneration({ entryPoint: hog }), { ...defaultTiers.free, memory: 128 });
    const failure = await failureOf(runner.run(task));
    expect(failure).toMatchObject({ step: 'app', reason: 'out_of_memory', exitCode: 137 });
    expect(failure?.lastLines).toEqual(['allocating']);
    expect(await runner.describe(task.previewId)).toBeUndefined();
  });

  it('fails an app whose health endpoint never answers 200 within the step timeout', async () => {
    const impatient = new ProcessTaskRunner({ stepTimeoutMs: 1_500 });
    // Serves its folder, which has no `health` file: 404.
    const task = await taskOf(
      inlineGeneration({ entryPoint: 'exec python3 -m http.server "$PORT" --bind "$HOST"' }),
    );
    const failure = await failureOf(impatient.run(task));
    expect(failure).toMatchObject({ step: 'app', reason: 'health_check' });
    expect(failure?.lastLines.join('\n')).toContain('"GET /health HTTP/1.1" 404');
    expect(await impatient.describe(task.previewId)).toBeUndefined();
  });

  it('refuses a task with a PostgreSQL database: that needs a Docker engine', async () => {
    const task = await taskOf(await example('todo-postgres'));
    const error = await runner.run(task).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'unavailable' });
    expect((error as Error).message).toContain('postgres:15');
    expect((error as Error).message).toContain('a Docker engine is needed for that database');
    expect(await runner.describe(task.previewId)).toBeUndefined();
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, runs generated code as nobody: it runs, writes its own volume, and cannot read private files',
    async () => {
      // The service's private data folder, as `.local/` is made.
      const privateDir = await mkdtemp(join(tmpdir(), 'private-data-'));
      await chmod(privateDir, 0o700);
      await writeFile(join(privateDir, 'jwt-secret'), 'not-for-previews\n', { mode: 0o600 });
      // The builder's folder must be reachable by nobody, as the local runtime makes it.
      const builds = await mkdtemp(join(tmpdir(), 'process-builds-nobody-'));
      await chmod(builds, 0o755);
      const asNobody = new ProcessTaskRunner({ stepTimeoutMs: 20_000, user: unprivilegedUser });
      const source = inlineGeneration(
        {
          dbType: 'sqlite',
          requiresMigrations: true,
          migrationCommand: `echo "uid $(id -u)"; touch "\${DATABASE_URL#sqlite:///}" && echo wrote; cat ${privateDir}/jwt-secret`,
          entryPoint: 'exec python3 -m http.server "$PORT" --bind "$HOST"',
        },
        { health: 'ok' },
      );
      const { imageRef } = await new ProcessImageBuilder(builds).ensureImage(source, () => {});
      const previewId = newPreviewId(new Date());
      const task = buildTaskDefinition({
        previewId,
        generation: source.generation,
        tier: defaultTiers.free,
        appImage: imageRef,
        databasePassword: newDatabasePassword(),
      });
      try {
        const failure = await failureOf(asNobody.run(task));
        expect(failure).toMatchObject({ step: 'migrate', reason: 'exit_nonzero', exitCode: 1 });
        expect(failure?.lastLines).toEqual([
          `uid ${unprivilegedUser.uid}`,
          'wrote',
          `cat: ${privateDir}/jwt-secret: Permission denied`,
        ]);
        const app = { ...task, containers: task.containers.filter((c) => c.name !== 'migrate') };
        const running = await asNobody.run(app);
        expect((await fetch(url(running, '/health'))).status).toBe(200);
      } finally {
        await asNobody.stop(previewId);
        await rm(privateDir, { recursive: true, force: true });
        await rm(builds, { recursive: true, force: true });
      }
    },
  );
});
