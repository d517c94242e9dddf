import type { Clock } from './clock.js';

export interface WriteAwareCacheOptions {
  /** Longest an answer is kept: the bound on what a write made elsewhere can leave unseen. */
  readonly ttlMs: number;
  /** Keys kept at most; the least recently stored goes first. */
  readonly maxEntries: number;
}

interface Entry<V> {
  readonly value: V;
  readonly storedAt: number;
}

interface Loading<V> {
  readonly loading: Promise<V>;
}

interface WritesInFlight {
  count: number;
  /** Writes begun on the key since the first of those in flight began. */
  begun: number;
}

/**
 * Read answers kept in memory, for a process that makes every write to what it caches itself (the
 * local runtime): each write drops its key's entry when it begins and, when it ends, stores what it
 * wrote unless another write to the key overlapped it (either may have landed last); a read begun
 * before a write ended never fills the cache. `ttlMs` bounds what a write from elsewhere (an
 * operator's edit) can leave unseen.
 */
export class WriteAwareCache<V> {
  private readonly entries = new Map<string, Entry<V> | Loading<V>>();
  private readonly writes = new Map<string, WritesInFlight>();

  constructor(
    private readonly clock: Clock,
    private readonly options: WriteAwareCacheOptions,
  ) {}

  async read(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && 'loading' in entry) return entry.loading;
    if (entry && this.fresh(entry)) return entry.value;
    if (this.writes.has(key)) return load();
    const marker: Loading<V> = { loading: load() };
    this.entries.set(key, marker);
    try {
      const value = await marker.loading;
      // A write that began meanwhile removed the marker: what was read may predate it.
      if (this.entries.get(key) === marker) this.remember(key, value);
      return value;
    } catch (error) {
      if (this.entries.get(key) === marker) this.entries.delete(key);
      throw error;
    }
  }

  /**
   * Runs a write to `key`. What `written` makes of its result is stored; without `written`, or
   * when the write fails (a conflict, an unavailable table), the key is read again next time.
   */
  async write<R>(key: string, write: () => Promise<R>, written?: (result: R) => V): Promise<R> {
    this.entries.delete(key);
    const inFlight = this.writes.get(key) ?? { count: 0, begun: 0 };
    const overlapped = inFlight.count > 0;
    inFlight.count += 1;
    inFlight.begun += 1;
    this.writes.set(key, inFlight);
    const begunBefore = inFlight.begun;
    let result: { value: V } | undefined;
    try {
      const outcome = await write();
      if (written) result = { value: written(outcome) };
      return outcome;
    } finally {
      inFlight.count -= 1;
      const alone = !overlapped && inFlight.count === 0 && inFlight.begun === begunBefore;
      if (inFlight.count === 0) this.writes.delete(key);
      if (result && alone) this.remember(key, result.value);
      else this.entries.delete(key);
    }
  }

  private remember(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, storedAt: this.now() });
  }

  /** Younger than the TTL; an entry from the future (the clock was set back) is not. */
  private fresh(entry: Entry<V>): boolean {
    const age = this.now() - entry.storedAt;
    return age >= 0 && age < this.options.ttlMs;
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
