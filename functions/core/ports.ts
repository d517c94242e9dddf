import type { GenerationSource } from './generation.js';
import type { RequestBucket, ResourceSample } from './metrics.js';
import type { PreviewStatus } from './lifecycle.js';
import type { PreviewEvent, PreviewRecord } from './preview.js';

/** Where generations come from: a local directory or S3. */
export interface GenerationStore {
  /** The generation with its files; `undefined` when there is no such generation. */
  load(generationId: string): Promise<GenerationSource | undefined>;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken?: string;
}

export interface PreviewStore {
  get(userId: string, generationId: string): Promise<PreviewRecord | undefined>;
  getById(previewId: string): Promise<PreviewRecord | undefined>;
  listByUser(userId: string): Promise<PreviewRecord[]>;
  /** Every preview not yet stopped or failed: what the schedules (sampling, sweeps) look after. */
  listLive(): Promise<PreviewRecord[]>;
  /**
   * Creates the user's preview of a generation. Succeeds only when there is none, or when the
   * stored one is still `replacing` and finished; otherwise throws a conflict.
   */
  create(record: PreviewRecord, replacing?: PreviewRecord): Promise<void>;
  /**
   * Sets `changes` (an `undefined` value removes the field) on the preview and adds one to its
   * `version`, only while the stored item is still that preview and meets `condition`; otherwise
   * throws a conflict. Fields not in `changes` keep whatever other writers stored. Returns the whole
   * stored record after the write, other writers' fields included.
   */
  modify(preview: PreviewKey, changes: PreviewChanges, condition?: PreviewCondition): Promise<PreviewRecord>;
}

export type PreviewKey = Pick<PreviewRecord, 'userId' | 'generationId' | 'previewId'>;

/** What a targeted write sets: any field but the keys and the write counter. */
export type PreviewChanges = Partial<
  Omit<PreviewRecord, 'userId' | 'generationId' | 'previewId' | 'version'>
>;

/**
 * The stored values a decision was made on. A targeted write applies only while they still hold,
 * so a writer that decided on stale values loses, and writers of other fields never conflict.
 */
export interface PreviewCondition {
  /** The stored status is one of these. */
  readonly status?: readonly PreviewStatus[];
  /** Fields (a dotted path for a nested one) that still hold these values; `null`: absent. */
  readonly equals?: Readonly<Partial<Record<ConditionField, string | number | null>>>;
}

export type ConditionField =
  'expiresAt' | 'extensionsUsed' | 'expiryWarnedAt' | 'health.checkedAt' | 'launchHeartbeatAt';

export interface QuotaStore {
  /** Adds the preview to the user's live set if the set holds fewer than `limit`; false when full. */
  reserve(userId: string, previewId: string, limit: number): Promise<boolean>;
  release(userId: string, previewId: string): Promise<void>;
  live(userId: string): Promise<string[]>;
}

export interface EventStore {
  append(event: PreviewEvent): Promise<void>;
  list(previewId: string, options: { limit: number; nextToken?: string }): Promise<Page<PreviewEvent>>;
}

/**
 * Starts the asynchronous part of a launch (build, task start) outside the request:
 * an asynchronous Lambda invocation in AWS, a background call in the local runtime.
 */
export interface LaunchStarter {
  /** Throws (`runtime_unavailable`) when no launch can start now, before anything is recorded. */
  ensureAvailable?(): Promise<void>;
  start(preview: Pick<PreviewRecord, 'userId' | 'generationId' | 'previewId'>): Promise<void>;
}

export type { PreviewStatus };

/** Per-minute request buckets and resource samples of previews. */
export interface MetricsStore {
  /** Adds the counts of a bucket to what is stored for its minute (concurrent adds never lose a count). */
  addRequests(previewId: string, bucket: RequestBucket): Promise<void>;
  requestBuckets(previewId: string, range?: { start?: Date; end?: Date }): Promise<RequestBucket[]>;
  recordResources(previewId: string, sample: ResourceSample): Promise<void>;
  latestResources(previewId: string): Promise<ResourceSample | undefined>;
  /** One sample per minute, of the minutes from `start` to `end` (both included), oldest first. */
  resourceSamples(previewId: string, range: { start: Date; end: Date }): Promise<ResourceSample[]>;
}
