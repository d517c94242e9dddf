import { describe, expect, it } from 'vitest';
import type { LiveConnection } from '#core/log-ports.js';
import { CachedConnectionStore } from '#core/services/cached-connection-store.js';
import { InMemoryConnectionStore, ManualClock } from '../support/in-memory.js';

const connection = (connectionId: string, live = true): LiveConnection => ({
  connectionId,
  previewId: 'p1',
  userId: 'user-1',
  generationId: 'gen-1',
  connectedAt: '2026-01-01T12:00:00.000Z',
  filter: { level: 'DEBUG' },
  subscribed: true,
  replay: { buffer: 0 },
  live,
});

function world() {
  const store = new InMemoryConnectionStore();
  let reads = 0;
  const byPreview = store.byPreview.bind(store);
  store.byPreview = async (previewId) => {
    reads += 1;
    return byPreview(previewId);
  };
  const clock = new ManualClock();
  const cached = new CachedConnectionStore(store, 1000, clock);
  return { store, cached, clock, reads: () => reads };
}

describe('CachedConnectionStore', () => {
  it("reads a preview's connections once for its time to live, then again", async () => {
    const { store, cached, clock, reads } = world();
    await store.put(connection('c1'));

    await cached.byPreview('p1');
    await cached.byPreview('p1');
    expect(reads()).toBe(1);
    clock.advance(1);
    await store.put(connection('c2'));

    expect((await cached.byPreview('p1')).map((c) => c.connectionId)).toEqual(['c1', 'c2']);
    expect(reads()).toBe(2);
  });

  it('sees at once what is written through it: a connection added, gone live, removed', async () => {
    const { cached } = world();
    await cached.put(connection('c1', false));
    expect((await cached.byPreview('p1')).map((c) => c.live)).toEqual([false]);

    await cached.update('c1', { live: true, liveAfter: '5-5' });
    expect(await cached.byPreview('p1')).toEqual([{ ...connection('c1'), liveAfter: '5-5' }]);

    await cached.remove('c1');
    expect(await cached.byPreview('p1')).toEqual([]);
  });

  it('does not keep a read that a write overtook', async () => {
    const { store, cached, reads } = world();
    await store.put(connection('c1', false));
    const read = cached.byPreview('p1');
    await cached.update('c1', { live: true });
    await read;

    expect((await cached.byPreview('p1')).map((c) => c.live)).toEqual([true]);
    expect(reads()).toBe(2);
  });

  it('hands out copies of the list it keeps', async () => {
    const { store, cached } = world();
    await store.put(connection('c1'));
    (await cached.byPreview('p1')).pop();
    expect(await cached.byPreview('p1')).toHaveLength(1);
  });
});
