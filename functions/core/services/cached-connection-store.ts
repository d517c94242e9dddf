import type { Clock } from '../clock.js';
import type { ConnectionChanges, ConnectionStore, LiveConnection } from '../log-ports.js';

/**
 * A preview's connections read once and kept for `ttlMs`, so that a burst of log deliveries does
 * not query the table for each one. Every write made through this store forgets what it kept, so
 * a connection that goes live (after its replay) is seen by the next delivery: use it only where
 * every writer of the connections goes through it (the local runtime's one process). Where other
 * processes write them (Lambda), a kept list would miss a connection going live: a gap in its stream.
 */
export class CachedConnectionStore implements ConnectionStore {
  private readonly kept = new Map<string, { readonly at: number; readonly connections: LiveConnection[] }>();
  /** Counts writes, so a read that started before one is not kept. */
  private writes = 0;

  constructor(
    private readonly store: ConnectionStore,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  async byPreview(previewId: string): Promise<LiveConnection[]> {
    const now = this.clock.now().getTime();
    const kept = this.kept.get(previewId);
    if (kept && now - kept.at < this.ttlMs) return [...kept.connections];
    const writes = this.writes;
    const connections = await this.store.byPreview(previewId);
    if (writes === this.writes) this.kept.set(previewId, { at: now, connections });
    return [...connections];
  }

  get(connectionId: string): Promise<LiveConnection | undefined> {
    return this.store.get(connectionId);
  }

  async put(connection: LiveConnection): Promise<void> {
    this.forget();
    await this.store.put(connection);
    this.forget();
  }

  async update(connectionId: string, changes: ConnectionChanges): Promise<boolean> {
    this.forget();
    const updated = await this.store.update(connectionId, changes);
    this.forget();
    return updated;
  }

  async remove(connectionId: string): Promise<void> {
    this.forget();
    await this.store.remove(connectionId);
    this.forget();
  }

  private forget(): void {
    this.writes += 1;
    this.kept.clear();
  }
}
