import { describe, expect, it } from 'vitest';
import { CachedPreviewStore } from '#core/cached-preview-store.js';
import { AppError } from '#core/errors.js';
import { hashToken } from '#core/ids.js';
import type { PreviewRecord } from '#core/preview.js';
import { PreviewProxy } from '#core/services/preview-proxy.js';
import { FakeApp } from '../support/fake-app.js';
import { InMemoryPreviewStore, ManualClock, previewRecord } from '../support/in-memory.js';
import { previewServiceInMemory } from '../support/preview-service.js';

const identity = { userId: 'user-1', tier: 'pro' as const };
const firstToken = 'first-preview-token';
const ttlMs = 5000;

/** The in-memory store, counting the reads that reach it, and able to hold one read back. */
class CountingStore extends InMemoryPreviewStore {
  reads = 0;
  held: Promise<void> | undefined;

  override async get(userId: string, generationId: string): Promise<PreviewRecord | undefined> {
    this.reads += 1;
    const record = await super.get(userId, generationId);
    await this.held;
    return record;
  }
}

function world(options: { maxEntries?: number } = {}) {
  const clock = new ManualClock();
  const inner = new CountingStore();
  const cached = new CachedPreviewStore(inner, clock, { ttlMs, maxEntries: options.maxEntries ?? 100 });
  const { service, stateMachine } = previewServiceInMemory({ clock, previewsSeenAs: () => cached });
  const app = new FakeApp();
  const proxy = new PreviewProxy({
    service,
    generations: { load: async () => undefined },
    client: app,
    requests: { record: async () => undefined },
    clock,
  });
  inner.put(
    previewRecord({
      previewId: 'p1',
      generationId: 'g1',
      status: 'healthy',
      tokenHash: hashToken(firstToken),
      endpoint: { host: '127.0.0.1', port: 41000 },
    }),
  );
  const forward = (previewToken: string) =>
    proxy.forward(identity, 'g1', { method: 'GET', path: '/health', headers: {}, previewToken });
  return { clock, inner, cached, service, stateMachine, app, forward };
}

async function refusal(request: Promise<unknown>): Promise<string | undefined> {
  try {
    await request;
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

describe('CachedPreviewStore behind the proxy', () => {
  it('reads the table once for many proxied requests', async () => {
    const { inner, forward, app } = world();

    for (let i = 0; i < 5; i += 1) await forward(firstToken);

    expect(app.requests).toHaveLength(5);
    expect(inner.reads).toBe(1);
  });

  it('refuses the old token at once after a rotation, and takes the new one', async () => {
    const { forward, service, inner } = world();
    await forward(firstToken);

    const { previewToken } = await service.rotateToken(identity, 'g1');
    const readsAfterRotation = inner.reads;

    expect(await refusal(forward(firstToken))).toBe('forbidden');
    await expect(forward(previewToken)).resolves.toMatchObject({ statusCode: 200 });
    // The rotation's own write filled the cache: neither answer needed a read.
    expect(inner.reads).toBe(readsAfterRotation);
  });

  it('refuses requests at once after a stop or a delete', async () => {
    const { forward, service } = world();
    await forward(firstToken);

    await service.stop(identity, 'g1');

    expect(await refusal(forward(firstToken))).toBe('preview_not_running');
  });

  it('sends requests to the new task at once after a restart', async () => {
    const { forward, service, stateMachine, app } = world();
    await forward(firstToken);
    const record = await service.ownedPreview(identity, 'g1');

    const recovering = await stateMachine.transition(record, 'recovering', { type: 'system', id: 'monitor' });
    expect(await refusal(forward(firstToken))).toBe('preview_not_running');
    const launching = await stateMachine.transition(recovering, 'launching', {
      type: 'system',
      id: 'monitor',
    });
    await stateMachine.transition(
      launching,
      'running',
      { type: 'system', id: 'monitor' },
      { endpoint: { host: '127.0.0.1', port: 42000 } },
    );
    await forward(firstToken);

    expect(app.requests.at(-1)?.endpoint).toEqual({ host: '127.0.0.1', port: 42000 });
  });
});

describe('CachedPreviewStore', () => {
  const key = { userId: 'user-1', generationId: 'g1', previewId: 'p1' };

  it('sees a write made past it (elsewhere) once its entry is older than the TTL', async () => {
    const { cached, inner, clock } = world();
    await cached.get('user-1', 'g1');
    await inner.modify(key, { statusReason: 'written elsewhere' });

    expect((await cached.get('user-1', 'g1'))?.statusReason).toBeUndefined();
    clock.advance(ttlMs / 1000);
    expect((await cached.get('user-1', 'g1'))?.statusReason).toBe('written elsewhere');
  });

  it('reads the table again when the clock was set back past an entry', async () => {
    const { cached, inner, clock } = world();
    await cached.get('user-1', 'g1');
    clock.advance(-1);
    await cached.get('user-1', 'g1');

    expect(inner.reads).toBe(2);
  });

  it('never keeps what a read saw before a write that ended while it was under way', async () => {
    const { cached, inner } = world();
    let release!: () => void;
    inner.held = new Promise((resolve) => {
      release = resolve;
    });
    const before = cached.get('user-1', 'g1');
    await cached.modify(key, { statusReason: 'newer' });
    release();
    inner.held = undefined;

    expect((await before)?.statusReason).toBeUndefined();
    const reads = inner.reads;
    expect((await cached.get('user-1', 'g1'))?.statusReason).toBe('newer');
    expect(inner.reads).toBe(reads);
  });

  it('reads the table again after a write that failed', async () => {
    const { cached, inner } = world();
    await cached.get('user-1', 'g1');

    await expect(cached.modify(key, { statusReason: 'x' }, { status: ['stopped'] })).rejects.toThrow(
      AppError,
    );
    const reads = inner.reads;
    await cached.get('user-1', 'g1');

    expect(inner.reads).toBe(reads + 1);
  });

  it('keeps no answer of overlapping writes to one preview: either may have landed last', async () => {
    const { cached, inner } = world();
    await Promise.all([
      cached.modify(key, { statusReason: 'one' }),
      cached.modify(key, { statusReason: 'two' }),
    ]);
    const reads = inner.reads;

    expect((await cached.get('user-1', 'g1'))?.statusReason).toBe('two');
    expect(inner.reads).toBe(reads + 1);
  });

  it('remembers that a preview does not exist, until one is created', async () => {
    const { cached, inner } = world();
    expect(await cached.get('user-1', 'g2')).toBeUndefined();
    expect(await cached.get('user-1', 'g2')).toBeUndefined();
    expect(inner.reads).toBe(1);

    await cached.create(previewRecord({ previewId: 'p2', generationId: 'g2' }));

    expect((await cached.get('user-1', 'g2'))?.previewId).toBe('p2');
    expect(inner.reads).toBe(1);
  });

  it('keeps at most maxEntries previews, dropping the least recently stored', async () => {
    const { cached, inner } = world({ maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) {
      inner.put(previewRecord({ previewId: id, generationId: id }));
      await cached.get('user-1', id);
    }
    const reads = inner.reads;

    await cached.get('user-1', 'c');
    await cached.get('user-1', 'b');
    expect(inner.reads).toBe(reads);
    await cached.get('user-1', 'a');
    expect(inner.reads).toBe(reads + 1);
  });
});
