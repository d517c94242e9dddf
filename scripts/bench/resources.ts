import type { UserApi } from './api.js';

/**
 * What the bench started, so that the end of the run (normal, failed or interrupted) can
 * remove all of it.
 */
export class BenchResources {
  /** Previews that may be live, by user and generation: deleted through the API at the end. */
  private readonly live = new Map<string, { api: UserApi; generationId: string }>();
  /** Every preview seen: swept by label should the service have left anything of one. */
  readonly previewIds = new Set<string>();
  /** Image tags the service built for the bench (its `built` event said `cached: false`). */
  readonly builtImages = new Set<string>();
  /** Generations that exist only for the bench: any image labelled with one is the bench's. */
  readonly benchGenerationIds = new Set<string>();

  private closed = false;

  /** Called before the launch request, so an interrupted launch is still deleted. */
  launching(api: UserApi, generationId: string): void {
    if (this.closed) throw new Error('the bench is stopping');
    this.live.set(`${api.userId}/${generationId}`, { api, generationId });
  }

  /** Deletes through the API and forgets the preview. */
  async remove(api: UserApi, generationId: string): Promise<void> {
    await api.remove(generationId);
    this.live.delete(`${api.userId}/${generationId}`);
  }

  /** Refuses further launches, then deletes every preview still live, all at once; answers the failures. */
  async removeAll(): Promise<string[]> {
    this.closed = true;
    const results = await Promise.allSettled(
      [...this.live.values()].map(({ api, generationId }) => this.remove(api, generationId)),
    );
    return results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  }
}
