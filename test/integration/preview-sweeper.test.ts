import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreviewRecord } from '#core/preview.js';
import type { ServiceMetricName, ServiceMetrics } from '#core/service-metrics.js';
import { PreviewSweeper } from '#core/services/preview-sweeper.js';
import type { TaskRunner } from '#core/task-runner.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { launcherOn, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

/** The runtime as the sweeper sees it: what has resources, and stopping them (which may fail). */
class ListedRuntime implements TaskRunner {
  readonly kind = 'docker' as const;
  readonly runWaitsForTask = true;
  readonly listed = new Set<string>();
  readonly failing = new Set<string>();
  readonly stopped: string[] = [];

  async run(): Promise<never> {
    throw new Error('the sweeper never runs tasks');
  }
  async stop(previewId: string) {
    if (this.failing.has(previewId)) throw new Error(`the runtime refused to stop ${previewId}`);
    this.stopped.push(previewId);
    this.listed.delete(previewId);
  }
  async describe() {
    return undefined;
  }
  async list() {
    return [...this.listed];
  }
  async stats() {
    return undefined;
  }
}

class CountingMetrics implements ServiceMetrics {
  readonly counts: ServiceMetricName[] = [];
  count(name: ServiceMetricName) {
    this.counts.push(name);
  }
  milliseconds() {}
  gauge() {}
}

function sweepWorld(userId: string, launchTimeoutSeconds = 600) {
  let skewMs = 0;
  const clock = { now: () => new Date(Date.now() + skewMs) };
  const runtime = new ListedRuntime();
  const { service, stateMachine, previews } = previewServiceOn(db, { clock, runner: runtime });
  // Any task the sweeper's recoveries start answers at once.
  const launcher = launcherOn({ stateMachine, previews }, { runner: runtime, clock });
  const metrics = new CountingMetrics();
  const failures: { previewId: string; error: unknown }[] = [];
  const warnings: string[] = [];
  const sweeper = new PreviewSweeper({
    previews,
    stateMachine,
    launcher,
    runner: runtime,
    starter: { start: (preview) => launcher.start(preview.previewId) },
    clock,
    launchTimeoutSeconds,
    warnBeforeExpirySeconds: 300,
    warn: async (previewId) => {
      warnings.push(previewId);
    },
    serviceMetrics: metrics,
    onFailure: (previewId, error) => failures.push({ previewId, error }),
  });
  const identity = { userId, tier: 'pro' as const };
  const system = { type: 'system' as const, id: 'test' };

  /** A healthy preview whose session ends `secondsLeft` from now, with a task in the runtime. */
  async function healthy(generationId: string, secondsLeft: number): Promise<PreviewRecord> {
    const launched = await service.launch(identity, generationId, {});
    let record = await previews.getById(launched.body.previewInstanceId);
    if (!record) throw new Error('missing');
    for (const to of ['launching', 'running'] as const)
      record = await stateMachine.transition(record, to, system);
    const now = clock.now().getTime();
    record = await stateMachine.transition(record, 'healthy', system, {
      healthyAt: new Date(now).toISOString(),
      expiresAt: new Date(now + secondsLeft * 1000).toISOString(),
    });
    runtime.listed.add(record.previewId);
    return record;
  }
  async function requested(generationId: string): Promise<PreviewRecord> {
    const launched = await service.launch(identity, generationId, {});
    runtime.listed.add(launched.body.previewInstanceId);
    const record = await previews.getById(launched.body.previewInstanceId);
    if (!record) throw new Error('missing');
    return record;
  }
  const eventsOf = async (generationId: string) =>
    (await service.listEvents(identity, generationId, { limit: 100 })).events.map((e) => e.type);
  const statusOf = async (generationId: string) => (await previews.get(userId, generationId))?.status;
  return {
    runtime,
    sweeper,
    metrics,
    failures,
    warnings,
    healthy,
    requested,
    eventsOf,
    statusOf,
    skip: (seconds: number) => {
      skewMs += seconds * 1000;
    },
  };
}

describe('the sweeper against a real DynamoDB API', () => {
  it("goes on with the other previews when one preview's step fails, and logs and counts it", async () => {
    const world = sweepWorld('sweep-isolation');
    const first = await world.healthy('first', 10);
    const broken = await world.healthy('broken', 10);
    const last = await world.healthy('last', 10);
    const orphan = `preview_${Date.now().toString(36).padStart(9, '0')}0000000000000001`;
    const stuckOrphan = `preview_${Date.now().toString(36).padStart(9, '0')}0000000000000002`;
    world.runtime.listed.add(orphan).add(stuckOrphan);
    world.runtime.failing.add(broken.previewId).add(stuckOrphan);
    world.skip(60);

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ expired: 2, orphansRemoved: 1, failed: 2 });
    expect(await world.statusOf('first')).toBe('stopped');
    expect(await world.statusOf('last')).toBe('stopped');
    expect(world.runtime.stopped).toEqual(expect.arrayContaining([first.previewId, last.previewId, orphan]));
    expect(world.failures.map((f) => f.previewId).sort()).toEqual([broken.previewId, stuckOrphan].sort());
    expect(String(world.failures[0]?.error)).toMatch(/refused to stop/);
    expect(world.metrics.counts.filter((name) => name === 'SweepFailures')).toHaveLength(2);

    // A later sweep tries again: the orphan at once, the stop once it is plainly left unfinished.
    world.runtime.failing.clear();
    world.skip(120);
    const next = await world.sweeper.sweep();
    expect(next).toMatchObject({ failed: 0, orphansRemoved: 1, stopsFinished: 1 });
    expect(await world.statusOf('broken')).toBe('stopped');
    expect(world.runtime.listed.size).toBe(0);
  });

  it('does each thing once when two sweeps overlap', async () => {
    const world = sweepWorld('sweep-overlap', 60);
    await world.requested('hung');
    await world.healthy('ending', 10);
    const warned = await world.healthy('warned', 350);
    // Past the launch timeout and the first session; the second is within its warning time.
    world.skip(100);

    const results = await Promise.all([world.sweeper.sweep(), world.sweeper.sweep()]);

    expect(world.failures).toEqual([]);
    expect(results.map((r) => r.failed)).toEqual([0, 0]);
    expect(await world.statusOf('ending')).toBe('stopped');
    expect((await world.eventsOf('ending')).filter((t) => t === 'expired')).toHaveLength(1);
    expect(await world.statusOf('hung')).toBe('failed');
    expect((await world.eventsOf('hung')).filter((t) => t === 'failed')).toHaveLength(1);
    expect(world.warnings).toEqual([warned.previewId]);
    expect(results.reduce((sum, r) => sum + r.warned, 0)).toBe(1);
    expect(await world.statusOf('warned')).toBe('healthy');
  });
});
