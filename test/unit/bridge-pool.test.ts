import { afterEach, describe, expect, it, vi } from 'vitest';
import { BridgePool, type BridgeEngine, type BridgePoolOptions } from '#adapters/local/bridge-pool.js';

type Users = { previewId: string; taskId: string }[];

/** An engine's bridges in memory: what was created and removed, in order. */
class FakeBridges implements BridgeEngine {
  readonly bridges = new Map<string, Users>();
  readonly created: string[] = [];
  readonly removed: string[] = [];
  refuse: Error | undefined;

  create(name: string): Promise<void> {
    if (this.refuse) return Promise.reject(this.refuse);
    this.created.push(name);
    this.bridges.set(name, []);
    return Promise.resolve();
  }

  remove(name: string): Promise<void> {
    this.removed.push(name);
    this.bridges.delete(name);
    return Promise.resolve();
  }

  list(): Promise<{ name: string; users: Users }[]> {
    if (this.refuse) return Promise.reject(this.refuse);
    return Promise.resolve([...this.bridges].map(([name, users]) => ({ name, users })));
  }
}

/** A task started on a bridge of the pool, as the runner does it. */
async function started(pool: BridgePool, previewId: string, taskId = `${previewId}-task`) {
  const claim = await pool.claim(previewId, taskId);
  claim.starting = false;
  return claim;
}

afterEach(() => {
  vi.useRealTimers();
});

/** A pool on `engine` with a clock the test moves (`pass`). */
function poolOn(engine: BridgeEngine, options: BridgePoolOptions = {}) {
  let now = Date.parse('2026-12-03T12:00:00Z');
  const pool = new BridgePool(engine, { ...options, clock: { now: () => new Date(now) } });
  return {
    pool,
    pass: (ms: number) => {
      now += ms;
    },
  };
}

describe('BridgePool', () => {
  it('creates a bridge named for the host firewall when none is free; another preview gets a freed one once it is quiet', async () => {
    const engine = new FakeBridges();
    const { pool, pass } = poolOn(engine);
    const first = await started(pool, 'preview_a');
    expect(first.name).toMatch(/^pv-[0-9a-f]{12}$/);
    pool.release(await pool.claimsOf('preview_a'));
    expect(pool.freeCount()).toBe(1);

    // Requests still on their way to preview_a's address could reach a container that took it.
    pass(9_999);
    const second = await started(pool, 'preview_b');
    expect(second.name).not.toBe(first.name);
    pass(1);
    const third = await started(pool, 'preview_c');
    expect(third.name).toBe(first.name);
    expect(engine.created).toEqual([first.name, second.name]);
    expect(pool.freeCount()).toBe(0);
  });

  it('gives a preview its own freed bridge back at once (a restart, a recovery)', async () => {
    const { pool, pass } = poolOn(new FakeBridges());
    const others = [await started(pool, 'preview_b'), await started(pool, 'preview_c')];
    const own = await started(pool, 'preview_a', 'task-1');
    pool.release(others);
    pass(10_000);
    pool.release(await pool.claimsOf('preview_a'));
    expect((await pool.claim('preview_a', 'task-2')).name).toBe(own.name);
    // Else the longest free.
    expect((await pool.claim('preview_d', 'task-d')).name).toBe(others[0]!.name);
  });

  it('never hands one bridge to two previews when a stop runs twice', async () => {
    const { pool, pass } = poolOn(new FakeBridges());
    const a = await started(pool, 'preview_a');
    const firstStop = await pool.claimsOf('preview_a');
    const secondStop = await pool.claimsOf('preview_a');
    pool.release(firstStop);
    pass(10_000);
    const b = await started(pool, 'preview_b');
    expect(b.name).toBe(a.name);

    pool.release(secondStop);
    expect(pool.freeCount()).toBe(0);
    expect(await pool.claimsOf('preview_b')).toEqual([b]);
    const c = await started(pool, 'preview_c');
    expect(c.name).not.toBe(b.name);
  });

  it('leaves a task being started out of a stop, and a task started after the stop began', async () => {
    const { pool } = poolOn(new FakeBridges());
    const starting = await pool.claim('preview_a', 'task-1');
    expect(await pool.claimsOf('preview_a')).toEqual([]);
    starting.starting = false;
    const stop = await pool.claimsOf('preview_a');
    expect(stop).toEqual([starting]);

    pool.release(stop);
    // The preview launched again while the stop was removing its containers: that task keeps its bridge.
    const relaunched = await started(pool, 'preview_a', 'task-2');
    pool.release(stop);
    expect(await pool.claimsOf('preview_a')).toEqual([relaunched]);
  });

  it('forgets a claim whose bridge the engine refused to create', async () => {
    const engine = new FakeBridges();
    const { pool } = poolOn(engine);
    engine.refuse = new Error('could not find an available, non-overlapping IPv4 address pool');
    await expect(pool.claim('preview_a', 'task-1')).rejects.toThrow('non-overlapping');
    engine.refuse = undefined;
    await started(pool, 'preview_a');
    expect(engine.created).toHaveLength(1);
    expect(pool.freeCount()).toBe(0);
  });

  it('takes over the bridges on the engine: those in use stay their previews’, the others are free', async () => {
    const engine = new FakeBridges();
    engine.bridges.set('pv-000000000001', [{ previewId: 'preview_a', taskId: 'task-a' }]);
    engine.bridges.set('pv-000000000002', []);
    const { pool } = poolOn(engine, { adopt: true });

    expect(await pool.claimsOf('preview_a')).toEqual([
      { name: 'pv-000000000001', previewId: 'preview_a', taskId: 'task-a', starting: false },
    ]);
    expect(pool.freeCount()).toBe(1);
    expect((await pool.claim('preview_b', 'task-b')).name).toBe('pv-000000000002');
    // preview_a's task restarted: its bridge comes back to it.
    pool.release(await pool.claimsOf('preview_a'));
    expect((await pool.claim('preview_a', 'task-a2')).name).toBe('pv-000000000001');
    expect(engine.created).toEqual([]);
  });

  it('takes nothing over without being told to: another pool may hold those bridges', async () => {
    const engine = new FakeBridges();
    engine.bridges.set('pv-000000000002', []);
    const { pool } = poolOn(engine);
    const claim = await pool.claim('preview_b', 'task-b');
    expect(claim.name).not.toBe('pv-000000000002');
  });

  it('asks the engine again when taking over failed', async () => {
    const engine = new FakeBridges();
    engine.bridges.set('pv-000000000002', []);
    engine.refuse = new Error('engine unreachable');
    const { pool } = poolOn(engine, { adopt: true });
    await expect(pool.claimsOf('preview_a')).rejects.toThrow('engine unreachable');
    engine.refuse = undefined;
    expect((await pool.claim('preview_b', 'task-b')).name).toBe('pv-000000000002');
  });

  it('removes the free bridges beyond those it keeps, the oldest first, a while after they were freed', async () => {
    vi.useFakeTimers();
    const engine = new FakeBridges();
    const { pool } = poolOn(engine, { keepFree: 1, trimDelayMs: 30_000 });
    const claims = [await started(pool, 'preview_a'), await started(pool, 'preview_b')];
    const c = await started(pool, 'preview_c');
    pool.release(claims);
    pool.release([c]);
    expect(engine.removed).toEqual([]);

    vi.advanceTimersByTime(30_000);
    expect(engine.removed).toEqual(claims.map((claim) => claim.name));
    expect(pool.freeCount()).toBe(1);
    expect((await pool.claim('preview_c', 'task-c2')).name).toBe(c.name);
  });

  it('removes the free bridges at close, and any freed after; claimed ones stay', async () => {
    const engine = new FakeBridges();
    const { pool } = poolOn(engine);
    const a = await started(pool, 'preview_a');
    const b = await started(pool, 'preview_b');
    pool.release([a]);

    await pool.close();
    expect(engine.removed).toEqual([a.name]);
    expect([...engine.bridges.keys()]).toEqual([b.name]);
    pool.release([b]);
    expect(engine.removed).toEqual([a.name, b.name]);
    expect(pool.freeCount()).toBe(0);
  });
});
