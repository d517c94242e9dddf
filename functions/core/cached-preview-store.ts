import type { Clock } from './clock.js';
import type { PreviewChanges, PreviewCondition, PreviewKey, PreviewStore } from './ports.js';
import type { PreviewRecord } from './preview.js';
import { WriteAwareCache, type WriteAwareCacheOptions } from './write-aware-cache.js';

const keyOf = (userId: string, generationId: string) => `${userId}\u0000${generationId}`;

/**
 * The preview store with `get` answered from memory, so a proxied request or a status call needs
 * no read of its own; every write through it updates the cache at once (write-aware-cache.ts). Only
 * for a process that makes every write to the previews table itself (the local runtime). In AWS
 * each function instance sees only its own writes (a rotation, a stop or a restart is another
 * function's), so a cached record could let an old preview token through: there the service
 * reads the table every time instead.
 */
export class CachedPreviewStore implements PreviewStore {
  private readonly cache: WriteAwareCache<PreviewRecord | undefined>;

  constructor(
    private readonly store: PreviewStore,
    clock: Clock,
    options: WriteAwareCacheOptions,
  ) {
    this.cache = new WriteAwareCache(clock, options);
  }

  get(userId: string, generationId: string): Promise<PreviewRecord | undefined> {
    return this.cache.read(keyOf(userId, generationId), () => this.store.get(userId, generationId));
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

  create(record: PreviewRecord, replacing?: PreviewRecord): Promise<void> {
    return this.cache.write(
      keyOf(record.userId, record.generationId),
      () => this.store.create(record, replacing),
      () => record,
    );
  }

  modify(preview: PreviewKey, changes: PreviewChanges, condition?: PreviewCondition): Promise<PreviewRecord> {
    return this.cache.write(
      keyOf(preview.userId, preview.generationId),
      () => this.store.modify(preview, changes, condition),
      (record) => record,
    );
  }
}
