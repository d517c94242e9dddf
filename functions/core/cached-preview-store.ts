import type { Clock } from './clock.js';
import type { PreviewChanges, PreviewCondition, PreviewKey, PreviewStore } from './ports.js';
import type { PreviewRecord } from './preview.js';

export interface PreviewCacheOptions {
  /** Longest a read answer is kept: the bound on what a write made elsewhere can leave unseen. */
  readonly ttlMs: number;
  /** Previews kept at most; the least recently stored goes first. */
  readonly maxEntries: number;
}

interface Entry {
  /** `undefined`: the store holds no preview under that key. */
  readonly record: PreviewRecord | undefined;
  readonly storedAt: number;
}

interface Loading {
  readonly loading: Promise<PreviewRecord | undefined>;
}

interface WritesInFlight {
  count: number;
  /** Writes begun on the key since the first of those in flight began. */
  begun: number;
}

/**
 * The preview store with `get` answered from memory, so a proxied request or a status call needs
 * no read of its own. Correct only in a process that makes every write to the previews table
 * itself (the local runtime): each write here drops the key's entry when it begins and stores the
 * written record when it ends, unless another write to the key overlapped it; a read begun before a
 * write ended never fills the cache. `ttlMs` bounds what a write from elsewhere (an operator's edit)
 * can leave unseen. In AWS each function instance sees only its own writes (a rotation or a stop is
 * another function's), so there the service reads the table every time instead.
 */
export class CachedPreviewStore implements PreviewStore {
  private readonly entries = new Map<string, Entry | Loading>();
  private readonly writes = new Map<string, WritesInFlight>();

  constructor(
    private readonly store: PreviewStore,
    private readonly clock: Clock,
    private readonly options: PreviewCacheOptions,
  ) {}

  private static key(userId: string, generationId: string): string {
    return `${userId}\u0000${generationId}`;
  }

  async get(userId: string, generationId: string): Promise<PreviewRecord | undefined> {
    const key = CachedPreviewStore.key(userId, generationId);
    const entry = this.entries.get(key);
    if (entry && 'loading' in entry) return entry.loading;
    if (entry && this.now() - entry.storedAt < this.options.ttlMs) return entry.record;
    if (this.writes.has(key)) return this.store.get(userId, generationId);
    const loading = this.store.get(userId, generationId);
    const marker: Loading = { loading };
    this.entries.set(key, marker);
    try {
      const record = await loading;
      // A write that began meanwhile removed the marker: what was read may predate it.
      if (this.entries.get(key) === marker) this.remember(key, record);
      return record;
    } catch (error) {
      if (this.entries.get(key) === marker) this.entries.delete(key);
      throw error;
    }
  }

  getById(previewId: string): Promise<PreviewRecord | undefined> {
    return this.store.getById(previewId);
  }

  listByUser(userId: string): Promise<PreviewRecord[]> {
    return this.store.listByUser(userId);
  }

  listLive(): Promise<PreviewRecord[]> {
    return this.store.listLive();
  }

  async create(record: PreviewRecord, replacing?: PreviewRecord): Promise<void> {
    await this.writing(record.userId, record.generationId, async () => {
      await this.store.create(record, replacing);
      return record;
    });
  }

  modify(preview: PreviewKey, changes: PreviewChanges, condition?: PreviewCondition): Promise<PreviewRecord> {
    return this.writing(preview.userId, preview.generationId, () =>
      this.store.modify(preview, changes, condition),
    );
  }

  /** A failed write (a conflict, an unavailable table) leaves the key to be read again. */
  private async writing(
    userId: string,
    generationId: string,
    write: () => Promise<PreviewRecord>,
  ): Promise<PreviewRecord> {
    const key = CachedPreviewStore.key(userId, generationId);
    this.entries.delete(key);
    const inFlight = this.writes.get(key) ?? { count: 0, begun: 0 };
    const overlapped = inFlight.count > 0;
    inFlight.count += 1;
    inFlight.begun += 1;
    this.writes.set(key, inFlight);
    const begunBefore = inFlight.begun;
    let written: PreviewRecord | undefined;
    try {
      written = await write();
      return written;
    } finally {
      inFlight.count -= 1;
      const alone = !overlapped && inFlight.count === 0 && inFlight.begun === begunBefore;
      if (inFlight.count === 0) this.writes.delete(key);
      if (written && alone) this.remember(key, written);
      else this.entries.delete(key);
    }
  }

  private remember(key: string, record: PreviewRecord | undefined): void {
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { record, storedAt: this.now() });
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
