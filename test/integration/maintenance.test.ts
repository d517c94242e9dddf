import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.js';
import type { MaintenanceSwitch } from '#core/maintenance.js';
import { MaintenanceStop } from '#core/services/maintenance-stop.js';
import type { ContainerState, TaskDescription, TaskRunner } from '#core/task-runner.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { launcherOn, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

/** A switch the test turns on and off. */
class TestSwitch implements MaintenanceSwitch {
  on = false;
  async isOn() {
    return this.on;
  }
}

/** A runtime whose tasks come up healthy; the test says how a task looks when described later. */
class ScriptedRuntime implements TaskRunner {
  readonly kind = 'docker' as const;
  readonly runWaitsForTask = true;
  runs = 0;
  stops = 0;
  appState: ContainerState = 'healthy';
  stoppedByOperator = false;

  async run() {
    this.runs += 1;
    // A new task's app is up.
    this.appState = 'healthy';
    return { taskId: `task-${this.runs}`, endpoint: { host: '127.0.0.1', port: 9 }, appHealthy: true };
  }
  async stop() {
    this.stops += 1;
  }
  async describe(previewId: string): Promise<TaskDescription> {
    return {
      previewId,
      taskId: `task-${this.runs}`,
      containers: [
        {
          name: 'app',
          state: this.appState,
          oomKilled: false,
          startedAt: new Date().toISOString(),
          ...(this.appState === 'exited' ? { exitCode: 143 } : {}),
        },
      ],
      endpoint: { host: '127.0.0.1', port: 9 },
      ...(this.stoppedByOperator ? { stoppedByOperator: true } : {}),
    };
  }
  async list() {
    return [];
  }
  async stats() {
    return undefined;
  }
}

function stage() {
  const runtime = new ScriptedRuntime();
  const maintenance = new TestSwitch();
  const { service, stateMachine, previews, quotas } = previewServiceOn(db, { runner: runtime, maintenance });
  const launcher = launcherOn({ stateMachine, previews }, { runner: runtime, maintenance });
  const stop = new MaintenanceStop({
    previews,
    stateMachine,
    maintenance,
    onError: (previewId, error) => {
      throw new Error(`${previewId} could not be stopped: ${String(error)}`);
    },
  });
  return { runtime, maintenance, service, previews, quotas, launcher, stop };
}

async function launched(s: ReturnType<typeof stage>, userId: string, generationId = 'g') {
  const result = await s.service.launch({ userId, tier: 'free' }, generationId, {});
  return result.body.previewInstanceId;
}

async function healthy(s: ReturnType<typeof stage>, userId: string, generationId = 'g') {
  const previewId = await launched(s, userId, generationId);
  await s.launcher.start(previewId);
  expect((await s.previews.getById(previewId))?.status).toBe('healthy');
  return previewId;
}

async function eventsOf(s: ReturnType<typeof stage>, userId: string, generationId = 'g') {
  return (await s.service.listEvents({ userId, tier: 'free' }, generationId, { limit: 50 })).events;
}

describe('maintenance mode against a real DynamoDB API', () => {
  it('refuses launches with 503 maintenance and a Retry-After, and records nothing', async () => {
    const s = stage();
    s.maintenance.on = true;
    const refusal = await s.service.launch({ userId: 'mm-refused', tier: 'free' }, 'g', {}).catch((e) => e);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: 'maintenance', retryAfterSeconds: 300 });
    expect(await s.previews.listByUser('mm-refused')).toEqual([]);
    expect(await s.quotas.live('mm-refused')).toEqual([]);
  });

  it('a launch accepted before maintenance began is stopped, not started', async () => {
    const s = stage();
    const previewId = await launched(s, 'mm-pending');
    s.maintenance.on = true;
    await s.launcher.start(previewId);
    expect(s.runtime.runs).toBe(0);
    expect(await s.previews.getById(previewId)).toMatchObject({ status: 'stopped' });
    expect(await s.quotas.live('mm-pending')).toEqual([]);
  });

  it('a preview that would be recovered is stopped instead, and its quota released', async () => {
    const s = stage();
    const previewId = await healthy(s, 'mm-recover');
    s.maintenance.on = true;
    const record = await s.previews.getById(previewId);
    await s.launcher.recover(record!, 'the health check failed 3 times in a row');
    expect(s.runtime.runs).toBe(1);
    expect(await s.previews.getById(previewId)).toMatchObject({ status: 'stopped', restarts: 0 });
    expect(await s.quotas.live('mm-recover')).toEqual([]);
    const stopped = (await eventsOf(s, 'mm-recover')).find((e) => e.type === 'stopped');
    expect(stopped).toMatchObject({ actor: { type: 'system', id: 'maintenance' } });
    expect(stopped?.reason).toMatch(/not recovered: the service is in maintenance/);
  });

  it('the sweep stops every live preview while on, and nothing while off', async () => {
    const s = stage();
    const first = await healthy(s, 'mm-sweep', 'g1');
    const second = await launched(s, 'mm-sweep', 'g2');
    expect(await s.stop.run()).toEqual({ stopped: 0, failed: 0 });
    s.maintenance.on = true;
    const result = await s.stop.run();
    expect(result.failed).toBe(0);
    expect(result.stopped).toBeGreaterThanOrEqual(2);
    for (const previewId of [first, second]) {
      expect((await s.previews.getById(previewId))?.status).toBe('stopped');
    }
    expect(await s.quotas.live('mm-sweep')).toEqual([]);
  });
});

describe('a task stopped outside the service', () => {
  it('by an operator: the preview is stopped, not recovered', async () => {
    const s = stage();
    const previewId = await healthy(s, 'op-stop');
    s.runtime.appState = 'exited';
    s.runtime.stoppedByOperator = true;
    await s.launcher.refresh(previewId);
    expect(s.runtime.runs).toBe(1);
    expect(await s.previews.getById(previewId)).toMatchObject({ status: 'stopped', restarts: 0 });
    const stopped = (await eventsOf(s, 'op-stop')).find((e) => e.type === 'stopped');
    expect(stopped).toMatchObject({
      actor: { type: 'system', id: 'operator' },
      reason: 'its task was stopped outside the service',
    });
  });

  it('by anything else (the app exited): the preview is recovered as before', async () => {
    const s = stage();
    const previewId = await healthy(s, 'op-crash');
    s.runtime.appState = 'exited';
    await s.launcher.refresh(previewId);
    expect(s.runtime.runs).toBe(2);
    expect(await s.previews.getById(previewId)).toMatchObject({ status: 'healthy', restarts: 1 });
  });
});
