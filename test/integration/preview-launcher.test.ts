import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppHttpClient } from '#core/app-request.js';
import { AppError } from '#core/errors.js';
import { parseGenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';
import type { PreviewTaskDefinition } from '#core/task-definition.js';
import {
  taskFailed,
  type BuiltImage,
  type Listener,
  type PendingAppImage,
  type RuntimeCapacity,
  type TaskDescription,
  type TaskRunner,
} from '#core/task-runner.js';
import { type TierName } from '#core/tiers.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { launcherOn, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

/** One generation with a 5 s health interval, so a launch that is never reachable fails in 5 s. */
const generations: GenerationStore = {
  async load(generationId) {
    const manifest = {
      id: generationId,
      projectId: 'proj-1',
      dbType: 'none',
      entryPoint: 'uvicorn app.main:app',
      healthCheckInterval: 5,
    };
    return parseGenerationSource(
      generationId,
      new Map([
        ['generation.json', Buffer.from(JSON.stringify(manifest))],
        ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
      ]),
    );
  },
};

/**
 * A runtime whose task comes up healthy inside (as the in-container check sees it); what the
 * endpoint answers from outside, what the task listens on, and how run ends are the test's to set.
 */
class ScriptedRuntime implements TaskRunner {
  readonly kind = 'docker' as const;
  readonly runWaitsForTask = true;
  tasks: PreviewTaskDefinition[] = [];
  stops = 0;
  describes = 0;
  runError: unknown;
  sockets: Listener[] | undefined = [];
  engine: RuntimeCapacity = { cpus: 2, memoryMb: 8192 };

  async run(task: PreviewTaskDefinition) {
    this.tasks.push(task);
    if (this.runError) throw this.runError;
    return { taskId: 'task-1', endpoint: { host: '127.0.0.1', port: 9 }, appHealthy: true };
  }
  async stop() {
    this.stops += 1;
  }
  async describe(previewId: string): Promise<TaskDescription> {
    this.describes += 1;
    return {
      previewId,
      taskId: 'task-1',
      containers: [{ name: 'app', state: 'running', oomKilled: false, startedAt: new Date().toISOString() }],
      endpoint: { host: '127.0.0.1', port: 9 },
    };
  }
  async list() {
    return [];
  }
  async stats() {
    return undefined;
  }
  async listeners() {
    return this.sockets;
  }
  async lastLines() {
    return ['INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)'];
  }
  async capacity() {
    return this.engine;
  }
}

/**
 * Answers the health endpoint with `status`, or fails to connect when it is 0; `/openapi.json` with
 * `document` when given (else as the health endpoint, with `{}`).
 */
function answering(status: () => number, document?: unknown): AppHttpClient {
  return {
    send: async (_endpoint, request) => {
      if (document !== undefined && request.target === '/openapi.json') {
        return { statusCode: 200, headers: {}, body: Buffer.from(JSON.stringify(document)), durationMs: 1 };
      }
      const statusCode = status();
      if (statusCode === 0) throw new AppError('unavailable', 'The app could not be reached.');
      return { statusCode, headers: {}, body: Buffer.from('{}'), durationMs: 1 };
    },
  };
}

async function launch(userId: string, tier: TierName, runtime: ScriptedRuntime, client: AppHttpClient) {
  const { service, stateMachine, previews } = previewServiceOn(db, { generations });
  const faults: { previewId: string; step: string; error: unknown }[] = [];
  const launcher = launcherOn(
    { stateMachine, previews },
    { runner: runtime, generations, client, reachPollMs: 50, onInternalError: (fault) => faults.push(fault) },
  );
  const { body } = await service.launch({ userId, tier }, 'g', {});
  await launcher.start(body.previewInstanceId);
  const record = await previews.getById(body.previewInstanceId);
  if (!record) throw new Error('preview missing');
  return { record, faults };
}

describe('preview launcher: healthy means reachable, failures diagnosed, limits fitted', () => {
  it('is healthy only once the endpoint answers 2xx from outside', async () => {
    let calls = 0;
    const { record } = await launch(
      'pl-reach',
      'free',
      new ScriptedRuntime(),
      answering(() => (++calls < 4 ? 0 : 200), { paths: {} }),
    );
    expect(record.status).toBe('healthy');
    expect(calls).toBe(4);
  });

  it("keeps the app's OpenAPI operations on the record once it is healthy, at most 200", async () => {
    const document = {
      openapi: '3.1.0',
      paths: {
        '/health': { get: { summary: 'Health' } },
        ...Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`/items/${i}`, { get: {} }])),
      },
    };
    const { record } = await launch(
      'pl-endpoints',
      'free',
      new ScriptedRuntime(),
      answering(() => 200, document),
    );
    expect(record.status).toBe('healthy');
    expect(record.generatedEndpoints).toHaveLength(200);
    expect(record.generatedEndpoints?.slice(0, 2)).toEqual([
      { method: 'GET', path: '/health', description: 'Health' },
      { method: 'GET', path: '/items/0' },
    ]);
  });

  it('lists no endpoints of an app that serves no OpenAPI document', async () => {
    const { record } = await launch(
      'pl-no-document',
      'free',
      new ScriptedRuntime(),
      answering(() => 200, 'not a document'),
    );
    expect(record.status).toBe('healthy');
    expect(record.generatedEndpoints).toEqual([]);
  });

  it('fails an app answering inside but never from outside within one interval, naming its address', async () => {
    const runtime = new ScriptedRuntime();
    runtime.sockets = [{ address: '127.0.0.1', port: 8000 }];
    // The wait is bounded by one health interval: unbounded, it would outlast the test's timeout.
    const { record } = await launch(
      'pl-loopback',
      'free',
      runtime,
      answering(() => 0),
    );
    expect(record).toMatchObject({ status: 'failed', failure: { step: 'app', reason: 'loopback_only' } });
    expect(record.healthyAt).toBeUndefined();
    expect(record.failure?.message).toContain('127.0.0.1:8000');
    expect(record.failure?.lastLines).toEqual([expect.stringContaining('Uvicorn running')]);
    expect(runtime.stops).toBeGreaterThan(0);
  });

  it('says what came back when the sockets say nothing wrong', async () => {
    const runtime = new ScriptedRuntime();
    runtime.sockets = [{ address: '0.0.0.0', port: 8000 }];
    const { record } = await launch(
      'pl-500',
      'free',
      runtime,
      answering(() => 500),
    );
    expect(record.failure).toMatchObject({
      reason: 'health_check',
      message:
        'The app answers inside its task, but GET /health at 127.0.0.1:9 did not answer 2xx within 5 s (it answered 500).',
    });
  });

  it('fails a 404 health endpoint at once as health_not_found', async () => {
    const { record } = await launch(
      'pl-404',
      'free',
      new ScriptedRuntime(),
      answering(() => 404),
    );
    expect(record.failure).toMatchObject({ reason: 'health_not_found' });
    expect(record.failure?.message).toMatch(/^GET \/health answered 404/);
  });

  it('records the limits fitted to the engine and runs the app with them', async () => {
    const runtime = new ScriptedRuntime();
    const { record } = await launch(
      'pl-fit',
      'enterprise',
      runtime,
      answering(() => 200),
    );
    expect(record.status).toBe('healthy');
    expect(record.appliedLimits).toEqual({
      cpu: 2,
      memoryMb: 2048,
      reason: 'Fitted to the engine running the preview, which has 2 cores (the tier asks for 4 cores).',
    });
    const app = runtime.tasks[0]?.containers.find((c) => c.name === 'app');
    expect(app).toMatchObject({ cpuUnits: 2048, memoryMb: 2048 });
  });

  it('fails the service’s own faults as internal, and reports each with its preview, step and error', async () => {
    const runtime = new ScriptedRuntime();
    const fault = new Error('(HTTP code 500) server error - Range of CPUs is from 0.01 to 2.00');
    runtime.runError = fault;
    const { record, faults } = await launch(
      'pl-internal',
      'free',
      runtime,
      answering(() => 200),
    );
    expect(record.failure).toEqual({
      step: 'launch',
      reason: 'internal',
      message: 'The preview could not be launched because of an internal error.',
    });
    expect(faults).toEqual([{ previewId: record.previewId, step: 'launching', error: fault }]);
  });
});

describe('preview launcher: database snapshots', () => {
  /** A PostgreSQL generation with migrations and seed: one a snapshot could stand in for. */
  const migrated: GenerationStore = {
    async load(generationId) {
      const manifest = {
        id: generationId,
        projectId: 'proj-1',
        dbType: 'postgresql',
        entryPoint: 'uvicorn app.main:app',
        requiresMigrations: true,
        migrationCommand: 'alembic upgrade head',
        seedDataIncluded: true,
        seedCommand: 'python -m app.seed',
      };
      return parseGenerationSource(
        generationId,
        new Map([
          ['generation.json', Buffer.from(JSON.stringify(manifest))],
          ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
        ]),
      );
    },
  };

  it('launches with migrations and seed when the snapshot store cannot answer, and reports why', async () => {
    const runtime = new ScriptedRuntime();
    const { service, stateMachine, previews } = previewServiceOn(db, { generations: migrated });
    const unanswered = new AppError('internal', 'ECR gave no digest for postgres:15.');
    const reported: { error: unknown; context: { key?: string; generationId: string } }[] = [];
    const captures: string[] = [];
    const launcher = launcherOn(
      { stateMachine, previews },
      {
        runner: runtime,
        generations: migrated,
        client: answering(() => 200),
        reachPollMs: 50,
        databaseSnapshots: {
          store: {
            imageId: async () => Promise.reject(unanswered),
            find: async () => undefined,
            capture: async ({ key }) => void captures.push(key),
            list: async () => [],
            evict: async () => [],
          },
          maxCount: 20,
          maxAgeSeconds: 3600,
          onError: (error, context) => reported.push({ error, context }),
        },
      },
    );
    const { body } = await service.launch({ userId: 'pl-snapshot-store', tier: 'free' }, 'g-migrated', {});
    await launcher.start(body.previewInstanceId);

    expect((await previews.getById(body.previewInstanceId))?.status).toBe('healthy');
    expect(runtime.tasks[0]?.containers.map((c) => c.name)).toEqual([
      'database',
      'migrate',
      'seed',
      'app',
      'bridge',
    ]);
    expect(reported).toEqual([{ error: unanswered, context: { generationId: 'g-migrated' } }]);
    // No key, no snapshot to make of this launch.
    expect(captures).toEqual([]);
  });
});

describe('preview launcher: task state changes', () => {
  it('asks the runtime about the task of a live preview, not of one stopped', async () => {
    const runtime = new ScriptedRuntime();
    const { service, stateMachine, previews } = previewServiceOn(db, { generations });
    const launcher = launcherOn(
      { stateMachine, previews },
      { runner: runtime, generations, client: answering(() => 200), reachPollMs: 50 },
    );
    const identity = { userId: 'pl-task-change', tier: 'free' as const };
    const { body } = await service.launch(identity, 'g', {});
    await launcher.start(body.previewInstanceId);
    const asked = runtime.describes;
    await launcher.refresh(body.previewInstanceId);
    expect(runtime.describes).toBe(asked + 1);

    await service.stop(identity, 'g');
    // Each container's end, as a stop reports it: nothing to ask the engine while it removes them.
    await launcher.refresh(body.previewInstanceId);
    expect(runtime.describes).toBe(asked + 1);
    expect((await previews.getById(body.previewInstanceId))?.status).toBe('stopped');
  });
});

/** A runtime that starts its task while the image builds, as the Docker runner does. */
class EarlyRuntime extends ScriptedRuntime {
  readonly startsBeforeAppImage = true;
  pendingImages: (string | undefined)[] = [];

  override async run(task: PreviewTaskDefinition, _trace?: unknown, pending?: PendingAppImage) {
    this.pendingImages.push(pending?.imageRef);
    await pending?.ready;
    return super.run(task);
  }
}

describe('preview launcher: a task started while its image builds', () => {
  /** A build that ends when the test says, as `outcome` says. */
  const gatedBuild = () => {
    let finish: (outcome: () => BuiltImage) => void = () => undefined;
    const done = new Promise<() => BuiltImage>((resolve) => (finish = resolve));
    return {
      finish,
      builder: {
        imageRefOf: () => 'preview-app:built',
        ensureImage: async () => (await done)(),
      },
    };
  };
  const launchWith = async (userId: string, build: ReturnType<typeof gatedBuild>, runtime: EarlyRuntime) => {
    const { service, stateMachine, previews } = previewServiceOn(db, { generations });
    const launcher = launcherOn(
      { stateMachine, previews },
      {
        runner: runtime,
        generations,
        imageBuilder: build.builder,
        client: answering(() => 200),
        reachPollMs: 50,
      },
    );
    const { body } = await service.launch({ userId, tier: 'free' }, 'g', {});
    const launched = launcher.start(body.previewInstanceId);
    return { previewId: body.previewInstanceId, launched, previews };
  };

  it('runs the task before the image exists, with the image it waits for, and becomes healthy', async () => {
    const runtime = new EarlyRuntime();
    const build = gatedBuild();
    const { previewId, launched, previews } = await launchWith('pl-early', build, runtime);
    while (runtime.pendingImages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runtime.pendingImages).toEqual(['preview-app:built']);
    expect((await previews.getById(previewId))?.status).toBe('building');

    build.finish(() => ({ imageRef: 'preview-app:built', cached: false }));
    await launched;
    const record = await previews.getById(previewId);
    expect(record?.status).toBe('healthy');
    expect(runtime.tasks[0]?.containers.find((c) => c.name === 'app')?.image).toBe('preview-app:built');
  });

  it('fails with the build’s diagnosis when the build fails under a started task, and stops the task', async () => {
    const runtime = new EarlyRuntime();
    const build = gatedBuild();
    const { previewId, launched, previews } = await launchWith('pl-early-fail', build, runtime);
    while (runtime.pendingImages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    build.finish(() => {
      throw taskFailed({ step: 'build', reason: 'build_error', exitCode: 2, lastLines: ['no such file'] });
    });
    await launched;
    const record = await previews.getById(previewId);
    expect(record?.status).toBe('failed');
    expect(record?.failure).toMatchObject({ step: 'build', reason: 'build_error', exitCode: 2 });
    expect(runtime.tasks).toEqual([]);
    expect(runtime.stops).toBeGreaterThan(0);
  });
});
