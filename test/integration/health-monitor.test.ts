import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppHttpClient } from '../../functions/core/app-request.js';
import { AppError } from '../../functions/core/errors.js';
import { HealthMonitor } from '../../functions/core/services/health-monitor.js';
import { PreviewLauncher } from '../../functions/core/services/preview-launcher.js';
import type { ContainerState, TaskDescription, TaskRunner } from '../../functions/core/task-runner.js';
import { defaultTiers } from '../../functions/core/tiers.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { anyGeneration, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

/**
 * A runtime whose task comes up healthy on every run; what the health endpoint answers is set by
 * the test. The monitor's rules are under test here; the real runtimes are tested on their own.
 */
class ScriptedRuntime implements TaskRunner {
  readonly kind = 'docker' as const;
  readonly runWaitsForTask = true;
  runs = 0;
  stops = 0;
  appState: ContainerState = 'healthy';
  healthStatus = 200;

  readonly client: AppHttpClient = {
    send: async () => {
      if (this.healthStatus === 0) throw new AppError('unavailable', 'The app did not answer within 5 s.');
      return { statusCode: this.healthStatus, headers: {}, body: Buffer.from('{}'), durationMs: 1 };
    },
  };

  async run() {
    this.runs += 1;
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
        { name: 'app', state: this.appState, oomKilled: false, startedAt: new Date().toISOString() },
      ],
      endpoint: { host: '127.0.0.1', port: 9 },
    };
  }
  async list() {
    return [];
  }
  async stats() {
    return undefined;
  }
}

async function healthyPreview(userId: string, maxRestarts = 3) {
  const runtime = new ScriptedRuntime();
  const tiers = { ...defaultTiers, free: { ...defaultTiers.free, maxRestarts } };
  const { service, previews, metrics } = previewServiceOn(db);
  const clock = { now: () => new Date() };
  const launcher = new PreviewLauncher({
    previews,
    generations: anyGeneration,
    service,
    imageBuilder: { ensureImage: async () => ({ imageRef: 'preview-app:test', cached: true }) },
    runner: runtime,
    tiers,
    clock,
  });
  const monitor = new HealthMonitor({
    previews,
    service,
    launcher,
    runner: runtime,
    client: runtime.client,
    metrics,
    clock,
    failureThreshold: 3,
  });
  const launched = await service.launch({ userId, tier: 'free' }, 'g', {});
  await launcher.start(launched.body.previewInstanceId);
  const record = await previews.getById(launched.body.previewInstanceId);
  expect(record?.status).toBe('healthy');
  const current = async () => {
    const found = await previews.getById(launched.body.previewInstanceId);
    if (!found) throw new Error('preview missing');
    return found;
  };
  return { runtime, monitor, service, current, identity: { userId, tier: 'free' as const } };
}

describe('health monitor and recovery against a real DynamoDB API', () => {
  it('reports per-check detail and moves between healthy, degraded and unhealthy', async () => {
    const { runtime, monitor, current } = await healthyPreview('hm-states');
    expect(await monitor.check(await current())).toMatchObject({
      status: 'healthy',
      checks: [{ name: 'http', status: 'passing' }],
    });
    runtime.healthStatus = 503;
    expect((await monitor.check(await current())).status).toBe('unhealthy');
    expect((await current()).status).toBe('unhealthy');
    runtime.healthStatus = 200;
    await monitor.check(await current());
    expect(await current()).toMatchObject({ status: 'healthy', health: { consecutiveFailures: 0 } });
  });

  it('restarts after three failures in a row with a new token, and records it', async () => {
    const { runtime, monitor, current, service, identity } = await healthyPreview('hm-recover');
    const before = await current();
    runtime.healthStatus = 0;
    await monitor.check(await current());
    await monitor.check(await current());
    expect(runtime.runs).toBe(1);
    await monitor.check(await current());
    const after = await current();
    expect(runtime.runs).toBe(2);
    expect(after).toMatchObject({ status: 'healthy', restarts: 1 });
    expect(after.tokenHash).not.toBe(before.tokenHash);
    expect(after.recoveringSince).toBeUndefined();
    const events = (await service.listEvents(identity, 'g', { limit: 50 })).events.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['unhealthy', 'recovering', 'token_rotated', 'recovered']));
  });

  it('fails the preview with a diagnosis once the restarts allowed are used up', async () => {
    const { runtime, monitor, current } = await healthyPreview('hm-limit', 1);
    runtime.healthStatus = 503;
    for (let i = 0; i < 3; i++) await monitor.check(await current());
    expect((await current()).restarts).toBe(1);
    for (let i = 0; i < 3; i++) await monitor.check(await current());
    const failed = await current();
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ reason: 'restart_limit' });
    expect(failed.failure?.message).toMatch(/restarted 1 times/);
    expect(runtime.stops).toBeGreaterThanOrEqual(2);
  });
});
