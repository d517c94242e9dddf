import { describe, expect, it } from 'vitest';
import type { PreviewRecord } from '#core/preview.js';
import type { ServiceMetricName, ServiceMetrics } from '#core/service-metrics.js';
import { PreviewSweeper } from '#core/services/preview-sweeper.js';
import { defaultTiers } from '#core/tiers.js';
import { InMemoryRuntime, ManualClock, previewRecord } from '../support/in-memory.js';
import { launcherOn, previewServiceInMemory, RecordingStarter } from '../support/preview-service.js';

class CountingMetrics implements ServiceMetrics {
  readonly counts: ServiceMetricName[] = [];
  readonly gauges: { name: ServiceMetricName; value: number }[] = [];
  count(name: ServiceMetricName) {
    this.counts.push(name);
  }
  milliseconds() {}
  gauge(name: ServiceMetricName, value: number) {
    this.gauges.push({ name, value });
  }
}

const launchTimeoutSeconds = 300;
const warnBeforeExpirySeconds = 300;

/** The sweeper over in-memory stores and runtime, at a clock that moves only when told. */
function sweepWorld() {
  const clock = new ManualClock('2026-01-01T12:00:00.000Z');
  const runtime = new InMemoryRuntime();
  const { stateMachine, previews, events } = previewServiceInMemory({ clock, runner: runtime });
  const launcher = launcherOn({ stateMachine, previews }, { runner: runtime, clock });
  const starter = new RecordingStarter();
  const metrics = new CountingMetrics();
  const failures: { previewId: string; error: unknown }[] = [];
  const warnings: { previewId: string; secondsLeft: number }[] = [];
  const sweeper = new PreviewSweeper({
    previews,
    stateMachine,
    launcher,
    runner: runtime,
    starter,
    clock,
    launchTimeoutSeconds,
    warnBeforeExpirySeconds,
    warn: async (previewId, secondsLeft) => {
      warnings.push({ previewId, secondsLeft });
    },
    serviceMetrics: metrics,
    onFailure: (previewId, error) => failures.push({ previewId, error }),
  });
  const at = (secondsFromNow: number) =>
    new Date(clock.now().getTime() + secondsFromNow * 1000).toISOString();
  /** A preview stored as given, with its task in the runtime unless it is finished. */
  const stored = (fields: Partial<PreviewRecord> & Pick<PreviewRecord, 'previewId'>): PreviewRecord => {
    const record = previewRecord({ createdAt: at(-60), updatedAt: at(-1), ...fields });
    previews.put(record);
    if (record.status !== 'stopped' && record.status !== 'failed') runtime.listed.add(record.previewId);
    return record;
  };
  const healthy = (previewId: string, secondsLeft: number, fields: Partial<PreviewRecord> = {}) =>
    stored({ previewId, status: 'healthy', healthyAt: at(-60), expiresAt: at(secondsLeft), ...fields });
  const statusOf = async (previewId: string) => (await previews.getById(previewId))?.status;
  return {
    clock,
    runtime,
    previews,
    events,
    starter,
    metrics,
    failures,
    warnings,
    sweeper,
    at,
    stored,
    healthy,
    statusOf,
  };
}

describe('PreviewSweeper', () => {
  it('stops a serving preview whose session ended, with an `expired` event, and leaves one with time left', async () => {
    const world = sweepWorld();
    world.healthy('ended', -1);
    world.healthy('ending-now', 0);
    world.healthy('later', 3600);

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ expired: 2, failed: 0 });
    expect(await world.statusOf('ended')).toBe('stopped');
    expect(await world.statusOf('ending-now')).toBe('stopped');
    expect(await world.statusOf('later')).toBe('healthy');
    expect(world.runtime.stopped.sort()).toEqual(['ended', 'ending-now']);
    expect(world.events.typesOf('ended')).toEqual(['stopping', 'expired']);
    expect(world.metrics.gauges).toEqual([{ name: 'ActivePreviews', value: 3 }]);
  });

  it('warns once before the session ends, with the seconds left, and records that it did', async () => {
    const world = sweepWorld();
    world.healthy('soon', 120);
    world.healthy('not-yet', warnBeforeExpirySeconds + 60);

    const first = await world.sweeper.sweep();
    world.clock.advance(30);
    const second = await world.sweeper.sweep();

    expect(first.warned).toBe(1);
    expect(second.warned).toBe(0);
    expect(world.warnings).toEqual([{ previewId: 'soon', secondsLeft: 120 }]);
    expect((await world.previews.getById('soon'))?.expiryWarnedAt).toBe('2026-01-01T12:00:00.000Z');
    expect(await world.statusOf('soon')).toBe('healthy');
  });

  it('fails a launch that did not finish within the launch timeout and removes its task', async () => {
    const world = sweepWorld();
    world.stored({ previewId: 'hung', status: 'building', createdAt: world.at(-launchTimeoutSeconds) });
    world.stored({
      previewId: 'young',
      status: 'building',
      createdAt: world.at(-launchTimeoutSeconds + 10),
      launchHeartbeatAt: world.at(0),
    });

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ abandoned: 1, takenOver: 0, failed: 0 });
    const hung = await world.previews.getById('hung');
    expect(hung?.status).toBe('failed');
    expect(hung?.failure).toMatchObject({ step: 'launch', reason: 'timeout' });
    expect(hung?.failure?.message).toContain(`${launchTimeoutSeconds} s`);
    expect(world.runtime.stopped).toEqual(['hung']);
    expect(await world.statusOf('young')).toBe('building');
  });

  it('hands a launch whose launcher stopped stamping it to a new launcher, and no other', async () => {
    const world = sweepWorld();
    world.stored({
      previewId: 'abandoned',
      status: 'launching',
      launchHeartbeatAt: world.at(-3600),
      createdAt: world.at(-120),
    });
    world.stored({
      previewId: 'recovering',
      status: 'recovering',
      launchHeartbeatAt: world.at(-3600),
      healthyAt: world.at(-600),
    });
    world.stored({
      previewId: 'alive',
      status: 'launching',
      launchHeartbeatAt: world.at(0),
      createdAt: world.at(-120),
    });

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ takenOver: 2, abandoned: 0 });
    expect(world.starter.started.sort()).toEqual(['abandoned', 'recovering']);
  });

  it('asks the runtime again about a started task whose launcher died before its app answered', async () => {
    const world = sweepWorld();
    const app = (state: 'running' | 'healthy') => ({
      previewId: 'answered-late',
      taskId: 'task-1',
      containers: [{ name: 'app' as const, state, oomKilled: false, startedAt: world.at(-30) }],
      endpoint: { host: '127.0.0.1', port: 9 },
    });
    world.stored({ previewId: 'answered-late', status: 'running', launchHeartbeatAt: world.at(-3600) });
    world.stored({ previewId: 'waited-for', status: 'running', launchHeartbeatAt: world.at(0) });
    world.runtime.described.set('answered-late', app('running'));

    expect(await world.sweeper.sweep()).toMatchObject({ rechecked: 1, takenOver: 0, failed: 0 });
    expect(await world.statusOf('answered-late')).toBe('running');
    world.runtime.described.set('answered-late', app('healthy'));
    expect(await world.sweeper.sweep()).toMatchObject({ rechecked: 1, failed: 0 });

    expect(await world.statusOf('answered-late')).toBe('healthy');
    // The app's own check is asked: no launch in this process vouches for it.
    expect(world.runtime.describedWith).toEqual([
      { previewId: 'answered-late', options: { checkApp: true } },
      { previewId: 'answered-late', options: { checkApp: true } },
    ]);
    expect(await world.statusOf('waited-for')).toBe('running');
  });

  it('fails a started task whose app never answered within the launch timeout', async () => {
    const world = sweepWorld();
    world.stored({
      previewId: 'never-answered',
      status: 'running',
      createdAt: world.at(-launchTimeoutSeconds),
      launchHeartbeatAt: world.at(-launchTimeoutSeconds + 5),
    });
    world.stored({
      previewId: 'recovered',
      status: 'running',
      healthyAt: world.at(-3600),
      createdAt: world.at(-7200),
    });

    expect(await world.sweeper.sweep()).toMatchObject({ abandoned: 1, failed: 0 });

    expect((await world.previews.getById('never-answered'))?.failure).toMatchObject({ reason: 'timeout' });
    expect(world.runtime.stopped).toEqual(['never-answered']);
    // Healthy once already: a recovery's start, which the launch timeout does not bound.
    expect(await world.statusOf('recovered')).toBe('running');
  });

  it('finishes a stop left unfinished for a minute, and leaves a stop in progress alone', async () => {
    const world = sweepWorld();
    world.stored({ previewId: 'left', status: 'stopping', updatedAt: world.at(-60) });
    world.stored({ previewId: 'in-progress', status: 'stopping', updatedAt: world.at(-10) });

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ stopsFinished: 1 });
    expect(await world.statusOf('left')).toBe('stopped');
    expect(await world.statusOf('in-progress')).toBe('stopping');
    expect(world.runtime.stopped).toEqual(['left']);
  });

  it('removes what the runtime holds for previews that are finished or unknown', async () => {
    const world = sweepWorld();
    world.stored({ previewId: 'finished', status: 'stopped' });
    world.runtime.listed.add('finished').add('unknown');
    world.healthy('kept', 3600);

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ orphansRemoved: 2, failed: 0 });
    expect(world.runtime.stopped.sort()).toEqual(['finished', 'unknown']);
    expect([...world.runtime.listed]).toEqual(['kept']);
  });

  it('spares the task of a launch that began after the live previews were listed', async () => {
    const world = sweepWorld();
    const list = world.runtime.list.bind(world.runtime);
    world.runtime.list = async () => {
      // The launch writes its record and starts its task between the sweep's two reads.
      world.stored({ previewId: 'just-launched', status: 'requested' });
      return list();
    };

    const result = await world.sweeper.sweep();

    expect(result.orphansRemoved).toBe(0);
    expect(world.runtime.stopped).toEqual([]);
  });

  it('recovers a serving preview whose task disappeared: one at its restart limit fails with the reason', async () => {
    const world = sweepWorld();
    world.healthy('vanished', 3600, { restarts: defaultTiers.pro.maxRestarts });
    world.runtime.listed.delete('vanished');

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ vanished: 1, failed: 0 });
    const record = await world.previews.getById('vanished');
    expect(record?.status).toBe('failed');
    expect(record?.failure).toMatchObject({ step: 'app', reason: 'restart_limit' });
  });

  it('goes on with the other previews when one fails, reports and counts it, and tries it again next time', async () => {
    const world = sweepWorld();
    world.healthy('broken', -1);
    world.healthy('fine', -1);
    world.runtime.listed.add('stuck-orphan');
    world.runtime.failingStops.add('broken').add('stuck-orphan');

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ expired: 1, failed: 2, orphansRemoved: 0 });
    expect(await world.statusOf('fine')).toBe('stopped');
    expect(await world.statusOf('broken')).toBe('stopping');
    expect(world.failures.map((f) => f.previewId).sort()).toEqual(['broken', 'stuck-orphan']);
    expect(String(world.failures[0]?.error)).toMatch(/refused to stop/);
    expect(world.metrics.counts).toEqual(['SweepFailures', 'SweepFailures']);

    world.runtime.failingStops.clear();
    world.clock.advance(60);
    const next = await world.sweeper.sweep();

    expect(next).toMatchObject({ stopsFinished: 1, orphansRemoved: 1, failed: 0 });
    expect(await world.statusOf('broken')).toBe('stopped');
    expect(world.runtime.listed.size).toBe(0);
  });

  it('leaves a preview another writer changed meanwhile to the next sweep, without calling it a failure', async () => {
    const world = sweepWorld();
    world.healthy('extended', -1);
    const modify = world.previews.modify.bind(world.previews);
    let raced = false;
    world.previews.modify = async (key, changes, condition) => {
      if (!raced) {
        raced = true;
        // The owner extends the session just before the sweeper's conditional write.
        await modify(key, { expiresAt: world.at(1800) });
      }
      return modify(key, changes, condition);
    };

    const result = await world.sweeper.sweep();

    expect(result).toMatchObject({ expired: 0, failed: 0 });
    expect(world.failures).toEqual([]);
    expect(await world.statusOf('extended')).toBe('healthy');
    expect(world.runtime.stopped).toEqual([]);
  });
});
