import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.js';
import { hashToken } from '#core/ids.js';
import type {
  EventStore,
  PreviewChanges,
  PreviewCondition,
  PreviewKey,
  PreviewStore,
  QuotaStore,
} from '#core/ports.js';
import type { PreviewEvent, PreviewRecord } from '#core/preview.js';
import type { PreviewStatus } from '#core/lifecycle.js';
import { PreviewStateMachine } from '#core/services/preview-state-machine.js';

const conflict = () => new AppError('conflict', 'The preview changed meanwhile; read it again and retry.');

/** Previews in a map, with the targeted conditional writes the DynamoDB store makes. */
class MemoryPreviewStore implements PreviewStore {
  readonly items = new Map<string, PreviewRecord>();

  async get(userId: string, generationId: string) {
    return [...this.items.values()].find((r) => r.userId === userId && r.generationId === generationId);
  }
  async getById(previewId: string) {
    return this.items.get(previewId);
  }
  async listByUser(userId: string) {
    return [...this.items.values()].filter((r) => r.userId === userId);
  }
  async listLive() {
    return [...this.items.values()].filter((r) => r.status !== 'stopped' && r.status !== 'failed');
  }
  async create(record: PreviewRecord) {
    if (this.items.has(record.previewId)) throw conflict();
    this.items.set(record.previewId, record);
  }
  async modify(preview: PreviewKey, changes: PreviewChanges, condition: PreviewCondition = {}) {
    const stored = this.items.get(preview.previewId);
    if (!stored || (condition.status && !condition.status.includes(stored.status))) throw conflict();
    for (const [path, value] of Object.entries(condition.equals ?? {})) {
      const actual = path
        .split('.')
        .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], stored);
      if (value === null ? actual !== undefined : actual !== value) throw conflict();
    }
    const next: Record<string, unknown> = { ...stored, version: stored.version + 1 };
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) delete next[field];
      else next[field] = value;
    }
    this.items.set(preview.previewId, next as unknown as PreviewRecord);
    return next as unknown as PreviewRecord;
  }
}

const now = new Date('2026-12-03T10:00:00.000Z');

function preview(status: PreviewStatus, extra: Partial<PreviewRecord> = {}): PreviewRecord {
  return {
    userId: 'user-1',
    generationId: 'g1',
    previewId: 'preview_1',
    projectId: 'proj-1',
    tier: 'free',
    status,
    tokenHash: hashToken('first-token'),
    dbType: 'none',
    autoMigrateDatabase: true,
    resources: { memoryMb: 256, cpu: 0.5, storageGb: 1 },
    sessionSeconds: 7200,
    extensionsUsed: 0,
    maxExtensions: 2,
    restarts: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    timeline: [],
    healthCheck: { endpoint: '/health', intervalSeconds: 10 },
    version: 1,
    ...extra,
  };
}

function world(stored: PreviewRecord) {
  const previews = new MemoryPreviewStore();
  previews.items.set(stored.previewId, stored);
  const events: PreviewEvent[] = [];
  const eventStore: EventStore = {
    append: async (event) => void events.push(event),
    list: async () => ({ items: events }),
  };
  const released: string[] = [];
  const quotas: QuotaStore = {
    reserve: async () => true,
    release: async (_userId, previewId) => void released.push(previewId),
    live: async () => [],
  };
  const stoppedTasks: string[] = [];
  const notified: string[] = [];
  const counted: string[] = [];
  const releasedApps: string[] = [];
  const stateMachine = new PreviewStateMachine({
    previews,
    quotas,
    events: eventStore,
    runner: { stop: async (previewId) => void stoppedTasks.push(previewId) },
    clock: { now: () => now },
    serviceMetrics: {
      count: (name) => void counted.push(name),
      milliseconds: () => undefined,
      gauge: () => undefined,
    },
    notifier: {
      statusChanged: async (record) => void notified.push(`status:${record.status}`),
      closeConnections: async (record, ending) =>
        void notified.push(`close:${ending.cause}:${record.status}:${record.tokenHash}`),
    },
    appConnections: { release: (endpoint) => void releasedApps.push(`${endpoint.host}:${endpoint.port}`) },
  });
  /** The preview as stored now. */
  const current = () => previews.items.get(stored.previewId)!;
  return { stateMachine, events, released, releasedApps, stoppedTasks, notified, counted, stored: current };
}

const monitor = { type: 'system' as const, id: 'health-monitor' };
const owner = { type: 'user' as const, id: 'user-1' };

describe('PreviewStateMachine.transition', () => {
  it('closes the connections kept to the app when its preview finishes or moves, and only then', async () => {
    const w = world(preview('healthy', { endpoint: { host: '127.0.0.1', port: 41000 } }));
    const recovering = await w.stateMachine.transition(w.stored(), 'recovering', monitor);
    const launching = await w.stateMachine.transition(recovering, 'launching', monitor);
    expect(w.releasedApps).toEqual([]);

    const running = await w.stateMachine.transition(launching, 'running', monitor, {
      endpoint: { host: '127.0.0.1', port: 42000 },
    });
    expect(w.releasedApps).toEqual(['127.0.0.1:41000']);

    await w.stateMachine.stop(running, owner, 'stopped by user');
    expect(w.releasedApps).toEqual(['127.0.0.1:41000', '127.0.0.1:42000']);
  });

  it('writes the status and the changes, records the event and tells the live stream', async () => {
    const w = world(preview('running'));
    const next = await w.stateMachine.transition(
      w.stored(),
      'healthy',
      monitor,
      { healthyAt: now.toISOString() },
      { type: 'healthy', reason: 'checks passed' },
    );
    expect(next).toMatchObject({ status: 'healthy', healthyAt: now.toISOString(), version: 2 });
    expect(w.stored()).toEqual(next);
    expect(w.events).toEqual([
      expect.objectContaining({
        type: 'healthy',
        actor: monitor,
        reason: 'checks passed',
        previewId: 'preview_1',
      }),
    ]);
    expect(w.notified).toEqual(['status:healthy']);
    expect(w.released).toEqual([]);
  });

  it('refuses a transition the lifecycle does not allow, and writes nothing', async () => {
    const w = world(preview('stopped'));
    await expect(w.stateMachine.transition(w.stored(), 'healthy', monitor)).rejects.toMatchObject({
      code: 'invalid_state',
    });
    expect(w.stored().version).toBe(1);
    expect(w.events).toEqual([]);
    expect(w.notified).toEqual([]);
  });

  it('throws a conflict when another writer moved the status since the read; the winner stays', async () => {
    const w = world(preview('running'));
    const read = w.stored();
    await w.stateMachine.transition(read, 'stopping', owner, { statusReason: 'stopped by user' });
    await expect(w.stateMachine.transition(read, 'healthy', monitor)).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(w.stored()).toMatchObject({ status: 'stopping', statusReason: 'stopped by user' });
  });

  it('does not conflict with writers of other fields, but does with a changed expected field', async () => {
    const w = world(
      preview('healthy', {
        health: { status: 'healthy', checkedAt: 'a', checks: [], consecutiveFailures: 0 },
      }),
    );
    const read = w.stored();
    await w.stateMachine.update(read, { expiryWarnedAt: now.toISOString() });
    const degraded = await w.stateMachine.transition(read, 'degraded', monitor);
    expect(degraded).toMatchObject({ status: 'degraded', expiryWarnedAt: now.toISOString() });
    await expect(
      w.stateMachine.transition(degraded, 'healthy', monitor, {}, undefined, { 'health.checkedAt': 'b' }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('releases the quota slot when the preview finishes', async () => {
    const w = world(preview('stopping'));
    await w.stateMachine.transition(w.stored(), 'stopped', owner, {}, { type: 'stopped' });
    expect(w.released).toEqual(['preview_1']);
  });
});

describe('PreviewStateMachine.update', () => {
  it('sets and removes fields without touching the status, while the status is the one read', async () => {
    const w = world(preview('healthy', { expiryWarnedAt: 'earlier' }));
    const read = w.stored();
    const next = await w.stateMachine.update(read, { expiryWarnedAt: undefined, restarts: 1 });
    expect(next.status).toBe('healthy');
    expect(next).not.toHaveProperty('expiryWarnedAt');
    expect(next.restarts).toBe(1);
    expect(w.events).toEqual([]);
    await w.stateMachine.transition(w.stored(), 'degraded', monitor);
    await expect(w.stateMachine.update(read, { restarts: 2 })).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('PreviewStateMachine.stampLaunchHeartbeat', () => {
  it('stamps the heartbeat alone, not even updatedAt', async () => {
    const w = world(preview('launching', { updatedAt: '2026-12-03T09:00:00.000Z' }));
    await w.stateMachine.stampLaunchHeartbeat(w.stored(), ['building', 'launching']);
    expect(w.stored()).toMatchObject({
      launchHeartbeatAt: now.toISOString(),
      updatedAt: '2026-12-03T09:00:00.000Z',
      version: 2,
    });
    expect(w.events).toEqual([]);
    expect(w.notified).toEqual([]);
  });

  it('stamps while the status is one of those given, whatever it moved to since the read', async () => {
    const w = world(preview('building'));
    const read = w.stored();
    await w.stateMachine.transition(read, 'launching', { type: 'system', id: 'launcher' });
    await w.stateMachine.stampLaunchHeartbeat(read, ['building', 'launching']);
    expect(w.stored()).toMatchObject({ status: 'launching', launchHeartbeatAt: now.toISOString() });
    await w.stateMachine.transition(w.stored(), 'failed', { type: 'system', id: 'launcher' });
    await expect(w.stateMachine.stampLaunchHeartbeat(read, ['building', 'launching'])).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});

describe('PreviewStateMachine stops and failures', () => {
  it('stops through stopping: the task stopped, both events, the quota released', async () => {
    const w = world(preview('healthy'));
    const stopped = await w.stateMachine.stop(w.stored(), owner, 'stopped by user');
    expect(stopped).toMatchObject({
      status: 'stopped',
      stoppedAt: now.toISOString(),
      statusReason: 'stopped by user',
    });
    expect(w.stoppedTasks).toEqual(['preview_1']);
    expect(w.events.map((e) => [e.type, e.reason])).toEqual([
      ['stopping', 'stopped by user'],
      ['stopped', 'stopped by user'],
    ]);
    expect(w.notified).toEqual([
      'status:stopping',
      'status:stopped',
      `close:preview_stopped:stopped:${w.stored().tokenHash}`,
    ]);
    expect(w.released).toEqual(['preview_1']);
  });

  it("ends the connections with the stop's own cause: the owner's delete, a restart", async () => {
    const deleted = world(preview('healthy'));
    await deleted.stateMachine.stop(deleted.stored(), owner, 'stopped by user', {
      ending: { cause: 'preview_deleted' },
    });
    const restarted = world(preview('healthy'));
    await restarted.stateMachine.stop(restarted.stored(), owner, 'restart requested', {
      ending: { cause: 'preview_restarted', successorPreviewId: 'preview_2' },
    });
    expect(deleted.notified.at(-1)).toMatch(/^close:preview_deleted:stopped:/);
    expect(restarted.notified.at(-1)).toMatch(/^close:preview_restarted:stopped:/);
  });

  it('finishes a stop that was cut off at stopping', async () => {
    const w = world(preview('stopping'));
    await w.stateMachine.finishStop(w.stored());
    expect(w.stored().status).toBe('stopped');
    expect(w.events.map((e) => [e.type, e.actor.id])).toEqual([['stopped', 'sweeper']]);
  });

  it('does not expire a session that was extended since the sweeper read it', async () => {
    const w = world(preview('healthy', { expiresAt: '2026-12-03T09:59:00.000Z' }));
    const read = w.stored();
    await w.stateMachine.extend({ ...read, expiresAt: '2026-12-03T09:59:00.000Z' }, 600, owner);
    await expect(w.stateMachine.expire(read)).rejects.toMatchObject({ code: 'conflict' });
    expect(w.stored().status).toBe('healthy');
    expect(w.stoppedTasks).toEqual([]);
  });

  it('expires with an `expired` event', async () => {
    const w = world(preview('healthy', { expiresAt: '2026-12-03T09:59:00.000Z' }));
    await w.stateMachine.expire(w.stored());
    expect(w.stored().status).toBe('stopped');
    expect(w.events.map((e) => e.type)).toEqual(['stopping', 'expired']);
  });

  it('leaves a finished preview as it is when the service halts it', async () => {
    const w = world(preview('failed'));
    await expect(w.stateMachine.halt(w.stored(), 'maintenance', 'maintenance')).resolves.toEqual(w.stored());
    await expect(w.stateMachine.stopForStorage(w.stored(), 'full')).resolves.toEqual(w.stored());
    expect(w.stoppedTasks).toEqual([]);
    expect(w.events).toEqual([]);
  });

  it('stops for storage with a `storage_limit` reason', async () => {
    const w = world(preview('healthy'));
    await w.stateMachine.stopForStorage(w.stored(), '1.0 GB of 1.0 GB used');
    expect(w.stored()).toMatchObject({
      status: 'stopped',
      statusReason: 'storage_limit: 1.0 GB of 1.0 GB used',
    });
    expect(w.events[0]?.actor).toEqual({ type: 'system', id: 'resource-sampler' });
  });

  it('fails with the diagnosis redacted, counted by cause, and the quota released', async () => {
    const w = world(preview('launching'));
    const failed = await w.stateMachine.fail(w.stored(), {
      step: 'migrate',
      reason: 'migration_failed',
      message: 'could not connect to postgres://app:hunter2@db/app',
      lastLines: ['password=hunter2'],
    });
    expect(failed.status).toBe('failed');
    expect(JSON.stringify(failed.failure)).not.toContain('hunter2');
    expect(failed.statusReason).toBe(failed.failure?.message);
    expect(w.counted).toEqual(['LaunchFailures', 'AppLaunchFailures']);
    expect(w.events.map((e) => [e.type, e.reason, e.detail])).toEqual([
      ['failed', 'migration_failed', { step: 'migrate', message: failed.failure?.message }],
    ]);
    expect(w.released).toEqual(['preview_1']);
    expect(w.notified).toEqual(['status:failed', `close:preview_failed:failed:${failed.tokenHash}`]);
  });

  it('abandons a launch: its task stopped, the preview failed with reason timeout', async () => {
    const w = world(preview('building'));
    await w.stateMachine.abandon(w.stored(), 'the launch did not finish in time');
    expect(w.stoppedTasks).toEqual(['preview_1']);
    expect(w.stored()).toMatchObject({ status: 'failed', failure: { step: 'launch', reason: 'timeout' } });
  });
});

describe('PreviewStateMachine owner writes', () => {
  it('extends once per read: the second of two racing extends conflicts', async () => {
    const w = world(preview('degraded', { expiresAt: '2026-12-03T12:00:00.000Z' }));
    const read = { ...w.stored(), expiresAt: '2026-12-03T12:00:00.000Z' };
    const { record, newExpiresAt } = await w.stateMachine.extend(read, 1800, owner);
    expect(newExpiresAt).toBe('2026-12-03T12:30:00.000Z');
    expect(record).toMatchObject({ expiresAt: newExpiresAt, extensionsUsed: 1, status: 'degraded' });
    await expect(w.stateMachine.extend(read, 1800, owner)).rejects.toMatchObject({ code: 'conflict' });
    expect(w.events.map((e) => [e.type, e.detail])).toEqual([
      ['extended', { durationSeconds: 1800, newExpiresAt }],
    ]);
  });

  it('extends a preview whose health changed since the read, and clears the expiry warning', async () => {
    const w = world(preview('healthy', { expiresAt: '2026-12-03T12:00:00.000Z', expiryWarnedAt: 'x' }));
    const read = { ...w.stored(), expiresAt: '2026-12-03T12:00:00.000Z' };
    await w.stateMachine.transition(w.stored(), 'degraded', monitor);
    const { record } = await w.stateMachine.extend(read, 60, owner);
    expect(record.status).toBe('degraded');
    expect(record).not.toHaveProperty('expiryWarnedAt');
  });

  it('refuses to extend a preview being stopped', async () => {
    const w = world(preview('stopping', { expiresAt: '2026-12-03T12:00:00.000Z' }));
    await expect(
      w.stateMachine.extend({ ...w.stored(), expiresAt: '2026-12-03T12:00:00.000Z' }, 60, owner),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('rotates the token of a live preview: a new hash stored, the event recorded, connections told', async () => {
    const w = world(preview('healthy'));
    const { record, token } = await w.stateMachine.rotateToken(w.stored(), owner);
    expect(record.tokenHash).toBe(hashToken(token));
    expect(record.tokenHash).not.toBe(hashToken('first-token'));
    expect(w.events.map((e) => e.type)).toEqual(['token_rotated']);
    expect(w.notified).toEqual([`close:token_rotated:healthy:${hashToken(token)}`]);
  });

  it('does not rotate the token of a finished preview', async () => {
    const w = world(preview('healthy'));
    const read = w.stored();
    await w.stateMachine.stop(read, owner, 'stopped by user');
    await expect(w.stateMachine.rotateToken(read, owner)).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('PreviewStateMachine.saveLaunchTrace', () => {
  it('sets the trace alone, whatever the status meanwhile, and tells no one', async () => {
    const w = world(preview('healthy', { healthyAt: now.toISOString() }));
    const readBefore = preview('running');
    const steps = [
      {
        kind: 'service' as const,
        step: 'record.healthy',
        startedAt: '2026-12-03T09:59:59.990Z',
        endedAt: '2026-12-03T10:00:00.000Z',
      },
    ];
    await w.stateMachine.saveLaunchTrace(readBefore, steps);
    expect(w.stored()).toMatchObject({ status: 'healthy', launchTrace: steps, version: 2 });
    expect(w.stored().updatedAt).toBe(now.toISOString());
    expect(w.events).toEqual([]);
    expect(w.notified).toEqual([]);
  });
});
