import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppHttpClient } from '#core/app-request.js';
import { AppError } from '#core/errors.js';
import type { LiveEnding } from '#core/live-messages.js';
import type { LiveNotifier } from '#core/log-ports.js';
import type { PreviewRecord } from '#core/preview.js';
import { HealthMonitor } from '#core/services/health-monitor.js';
import type { ContainerState, TaskDescription, TaskRunner } from '#core/task-runner.js';
import { defaultTiers } from '#core/tiers.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { launcherOn, previewServiceOn } from '../support/preview-service.js';

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

/** Remembers the restarts the live stream is told of (it closes the old token's connections). */
class RecordingNotifier implements LiveNotifier {
  readonly rotated: PreviewRecord[] = [];
  async statusChanged() {}
  async resourcesSampled() {}
  async healthChecked() {}
  async expiring() {}
  async storageFilling() {}
  async closeConnections(record: PreviewRecord, ending: LiveEnding) {
    if (ending.cause === 'preview_restarted') this.rotated.push(record);
  }
}

async function healthyPreview(userId: string, maxRestarts = 3, maxExtensions = 3) {
  const runtime = new ScriptedRuntime();
  const tiers = { ...defaultTiers, free: { ...defaultTiers.free, maxRestarts, maxExtensions } };
  const notifier = new RecordingNotifier();
  const { service, stateMachine, previews, metrics } = previewServiceOn(db, { tiers, notifier });
  const clock = { now: () => new Date() };
  // Every new task comes up answering; what the monitor sees afterwards is the test's to set.
  const launcher = launcherOn({ stateMachine, previews }, { runner: runtime, tiers, clock });
  const monitor = new HealthMonitor({
    previews,
    stateMachine,
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
  return {
    runtime,
    monitor,
    service,
    stateMachine,
    current,
    notifier,
    identity: { userId, tier: 'free' as const },
  };
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
    const { runtime, monitor, current, service, stateMachine, identity, notifier } =
      await healthyPreview('hm-recover');
    const databaseCount = { tables: 2, records: 5, countedAt: new Date().toISOString() };
    const before = await stateMachine.recordMeasurement(await current(), { databaseCount });
    expect(before.databaseCount).toEqual(databaseCount);
    runtime.healthStatus = 0;
    await monitor.check(await current());
    await monitor.check(await current());
    expect(runtime.runs).toBe(1);
    await monitor.check(await current());
    const after = await current();
    expect(runtime.runs).toBe(2);
    expect(after).toMatchObject({ status: 'healthy', restarts: 1 });
    expect(after.tokenHash).not.toBe(before.tokenHash);
    // The live stream is told, so connections opened with the old token are closed.
    expect(notifier.rotated.map((r) => r.tokenHash)).toEqual([after.tokenHash]);
    expect(after.recoveringSince).toBeUndefined();
    // The new task has a database of its own, not yet counted.
    expect(after.databaseCount).toBeUndefined();
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

/**
 * The monitor checking the preview every few hundred milliseconds (more often than every second),
 * with the app alternating between answering and not, so every check writes health and most change
 * the status; never three failures in a row, so it is never restarted.
 */
function monitorInBackground(preview: Awaited<ReturnType<typeof healthyPreview>>) {
  let running = true;
  let checks = 0;
  let checked: () => void = () => undefined;
  const loop = (async () => {
    while (running) {
      preview.runtime.healthStatus = checks % 2 === 0 ? 503 : 200;
      await preview.monitor.check(await preview.current()).catch((error: unknown) => {
        // A check that read before an owner's write and lost the race is the monitor's to drop.
        if (!(error instanceof AppError && error.code === 'conflict')) throw error;
      });
      checks += 1;
      checked();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    /** Resolves once the monitor has finished one more check: its writes land between the owner's. */
    nextCheck: () => new Promise<void>((resolve) => (checked = resolve)),
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('overlapping health runs', () => {
  it('record one check between them, whether it changes the status or not', async () => {
    const { runtime, monitor, current, service, identity } = await healthyPreview('hm-overlap');
    /** Two runs that read the preview at the same moment check it at once; the loser's clash is dropped. */
    const twoRuns = async () => {
      const read = await current();
      const outcomes = await Promise.allSettled([monitor.check(read), monitor.check(read)]);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'conflict' });
      return read;
    };
    runtime.healthStatus = 503;
    await twoRuns();
    expect(await current()).toMatchObject({ status: 'unhealthy', health: { consecutiveFailures: 1 } });
    runtime.healthStatus = 200;
    await twoRuns();
    expect(await current()).toMatchObject({ status: 'healthy', health: { consecutiveFailures: 0 } });
    const before = await twoRuns();
    expect((await current()).version).toBe(before.version + 1);
    const events = (await service.listEvents(identity, 'g', { limit: 50 })).events.map((e) => e.type);
    expect(events.filter((t) => t === 'unhealthy')).toHaveLength(1);
  });
});

describe('owner actions while the health monitor writes the same preview', () => {
  it('rotates the token 20 times and extends 5 times in a row, every one succeeding', async () => {
    const preview = await healthyPreview('owner-busy', 3, 5);
    const monitor = monitorInBackground(preview);
    try {
      const hashes = new Set<string>();
      for (let i = 0; i < 20; i++) {
        if (i % 5 === 0) await monitor.nextCheck();
        const rotated = await preview.service.rotateToken(preview.identity, 'g');
        expect(rotated.previewToken).toMatch(/\S/);
        hashes.add((await preview.current()).tokenHash);
      }
      expect(hashes.size).toBe(20);
      const before = await preview.current();
      for (let i = 0; i < 5; i++) {
        await monitor.nextCheck();
        const extended = await preview.service.extend(preview.identity, 'g', 60);
        expect(extended).toMatchObject({ status: 'extended', extensionsRemaining: 4 - i });
      }
      const after = await preview.current();
      expect(after.extensionsUsed).toBe(5);
      expect(Date.parse(after.expiresAt ?? '')).toBe(Date.parse(before.expiresAt ?? '') + 5 * 60_000);
    } finally {
      await monitor.stop();
    }
    // The monitor really wrote in between (it checked before every fifth rotation and every extend):
    // its verdicts are in the audit trail.
    const events = (await preview.service.listEvents(preview.identity, 'g', { limit: 200 })).events;
    expect(events.filter((e) => e.type === 'token_rotated')).toHaveLength(20);
    expect(events.filter((e) => e.type === 'extended')).toHaveLength(5);
    expect(events.some((e) => e.type === 'unhealthy' && e.actor.id === 'health-monitor')).toBe(true);
    expect((await preview.current()).restarts).toBe(0);
  });

  it('lets exactly one of two concurrent extends through when one extension is left', async () => {
    const preview = await healthyPreview('owner-race', 3, 2);
    const monitor = monitorInBackground(preview);
    try {
      await preview.service.extend(preview.identity, 'g', 60);
      const outcomes = await Promise.allSettled([
        preview.service.extend(preview.identity, 'g', 60),
        preview.service.extend(preview.identity, 'g', 60),
      ]);
      const succeeded = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(succeeded).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]?.reason).toMatchObject({ code: 'extension_limit_reached' });
      expect((await preview.current()).extensionsUsed).toBe(2);
    } finally {
      await monitor.stop();
    }
  });

  it('answers each refusal with its own code', async () => {
    const preview = await healthyPreview('owner-refusals', 3, 0);
    await expect(preview.service.extend(preview.identity, 'g', 60)).rejects.toMatchObject({
      code: 'extension_limit_reached',
    });
    await preview.service.stop(preview.identity, 'g');
    await expect(preview.service.extend(preview.identity, 'g', 60)).rejects.toMatchObject({
      code: 'invalid_state',
    });
    await expect(preview.service.rotateToken(preview.identity, 'g')).rejects.toMatchObject({
      code: 'invalid_state',
    });
  });
});
