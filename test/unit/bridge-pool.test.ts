import { afterEach, describe, expect, it, vi } from 'vitest';
import { BridgePool, type BridgeEngine } from '#adapters/local/bridge-pool.js';

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

describe('BridgePool', () => {
  it('creates a bridge named for the host firewall when none is free, and reuses a freed one', async () => {
    const engine = new FakeBridges();
    const pool = new BridgePool(engine);
    const first = await started(pool, 'preview_a');
    expect(first.name).toMatch(/^pv-[0-9a-f]{12}$/);
    const second = await started(pool, 'preview_b');
    expect(second.name).not.toBe(first.name);

    pool.release(await pool.claimsOf('preview_a'));
    expect(pool.freeCount()).toBe(1);
    const third = await started(pool, 'preview_c');
    expect(third.name).toBe(first.name);
    expect(engine.created).toEqual([first.name, second.name]);
    expect(pool.freeCount()).toBe(0);
  });

  it('never hands one bridge to two previews when a stop runs twice', async () => {
    const pool = new BridgePool(new FakeBridges());
    const a = await started(pool, 'preview_a');
    const firstStop = await pool.claimsOf('preview_a');
    const secondStop = await pool.claimsOf('preview_a');
    pool.release(firstStop);
    const b = await started(pool, 'preview_b');
    expect(b.name).toBe(a.name);

    pool.release(secondStop);
    expect(pool.freeCount()).toBe(0);
    expect(await pool.claimsOf('preview_b')).toEqual([b]);
    const c = await started(pool, 'preview_c');
    expect(c.name).not.toBe(b.name);
  });

  it('leaves a task being started out of a stop, and a task started after the stop began', async () => {
    const pool = new BridgePool(new FakeBridges());
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
    const pool = new BridgePool(engine);
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
    const pool = new BridgePool(engine, { adopt: true });

    expect(await pool.claimsOf('preview_a')).toEqual([
      { name: 'pv-000000000001', previewId: 'preview_a', taskId: 'task-a', starting: false },
    ]);
    expect(pool.freeCount()).toBe(1);
    expect((await pool.claim('preview_b', 'task-b')).name).toBe('pv-000000000002');
    expect(engine.created).toEqual([]);
  });

  it('takes nothing over without being told to: another pool may hold those bridges', async () => {
    const engine = new FakeBridges();
    engine.bridges.set('pv-000000000002', []);
    const pool = new BridgePool(engine);
    const claim = await pool.claim('preview_b', 'task-b');
    expect(claim.name).not.toBe('pv-000000000002');
  });

  it('asks the engine again when taking over failed', async () => {
    const engine = new FakeBridges();
    engine.bridges.set('pv-000000000002', []);
    engine.refuse = new Error('engine unreachable');
    const pool = new BridgePool(engine, { adopt: true });
    await expect(pool.claimsOf('preview_a')).rejects.toThrow('engine unreachable');
    engine.refuse = undefined;
    expect((await pool.claim('preview_b', 'task-b')).name).toBe('pv-000000000002');
  });

  it('removes the free bridges beyond those it keeps, the oldest first, a while after they were freed', async () => {
    vi.useFakeTimers();
    const engine = new FakeBridges();
    const pool = new BridgePool(engine, { keepFree: 1, trimDelayMs: 30_000 });
    const claims = [await started(pool, 'preview_a'), await started(pool, 'preview_b')];
    const c = await started(pool, 'preview_c');
    pool.release(claims);
    pool.release([c]);
    expect(engine.removed).toEqual([]);

    vi.advanceTimersByTime(30_000);
    expect(engine.removed).toEqual(claims.map((claim) => claim.name));
    expect(pool.freeCount()).toBe(1);
    expect((await pool.claim('preview_d', 'task-d')).name).toBe(c.name);
  });

  it('removes the free bridges at close, and any freed after; claimed ones stay', async () => {
    const engine = new FakeBridges();
    const pool = new BridgePool(engine);
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
