import type { Clock } from './clock.js';
import type { RequestBucket, ResourceSample } from './metrics.js';
import type { MetricsStore } from './ports.js';
import { WriteAwareCache, type WriteAwareCacheOptions } from './write-aware-cache.js';

/**
 * The metrics store with a preview's latest resource sample and its whole request history (what
 * `status` shows) answered from memory; every write of them through it drops what was kept
 * (write-aware-cache.ts). Only for a process that makes every metrics write itself (the local
 * runtime): in AWS the proxy and the sampler are other functions.
 */
export class CachedMetricsStore implements MetricsStore {
  private readonly resources: WriteAwareCache<ResourceSample | undefined>;
  private readonly requests: WriteAwareCache<RequestBucket[]>;

  constructor(
    private readonly store: MetricsStore,
    clock: Clock,
    options: WriteAwareCacheOptions,
  ) {
    this.resources = new WriteAwareCache(clock, options);
    this.requests = new WriteAwareCache(clock, options);
  }

  addRequests(previewId: string, bucket: RequestBucket): Promise<void> {
    return this.requests.write(previewId, () => this.store.addRequests(previewId, bucket));
  }

  async requestBuckets(
    previewId: string,
    range: { start?: Date; end?: Date } = {},
  ): Promise<RequestBucket[]> {
    if (range.start || range.end) return this.store.requestBuckets(previewId, range);
    // Callers get their own array: the kept one stays as it was read.
    return [...(await this.requests.read(previewId, () => this.store.requestBuckets(previewId)))];
  }

  recordResources(previewId: string, sample: ResourceSample): Promise<void> {
    return this.resources.write(previewId, () => this.store.recordResources(previewId, sample));
  }

  latestResources(previewId: string): Promise<ResourceSample | undefined> {
    return this.resources.read(previewId, () => this.store.latestResources(previewId));
  }

  resourceSamples(previewId: string, range: { start: Date; end: Date }): Promise<ResourceSample[]> {
    return this.store.resourceSamples(previewId, range);
  }
}
