import type { Clock } from '#core/clock.js';
import type { DatabaseTally } from '#core/database-count.js';
import { AppError } from '#core/errors.js';
import { isTerminal } from '#core/lifecycle.js';
import type { LogEntry } from '#core/log-entry.js';
import { inRange, matchesFilter, type LogFilter, type LogRange } from '#core/log-filter.js';
import type {
  ConnectionChannel,
  ConnectionChanges,
  ConnectionStore,
  LiveConnection,
  LogScope,
  LogStore,
  PreviewTokenIndex,
} from '#core/log-ports.js';
import type { RequestBucket, ResourceSample } from '#core/metrics.js';
import { mergeBuckets } from '#core/quantile-sketch.js';
import type {
  EventStore,
  MetricsStore,
  Page,
  PreviewChanges,
  PreviewCondition,
  PreviewKey,
  PreviewStore,
  QuotaStore,
} from '#core/ports.js';
import type { PreviewEvent, PreviewRecord } from '#core/preview.js';
import type { ContainerStats, DescribeOptions, TaskDescription, TaskRunner } from '#core/task-runner.js';

/**
 * In-memory stand-ins for the core's ports, for unit tests of the core services. They keep the
 * contracts the services rely on (conditional writes, ordering, gone connections) and nothing more.
 */

const changedMeanwhile = () =>
  new AppError('conflict', 'The preview changed meanwhile; read it again and retry.');

/** A clock that moves only when told. */
export class ManualClock implements Clock {
  private ms: number;
  constructor(start = '2026-01-01T12:00:00.000Z') {
    this.ms = Date.parse(start);
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

function fieldAt(record: PreviewRecord, path: string): unknown {
  return path.split('.').reduce<unknown>((value, segment) => {
    if (value === null || typeof value !== 'object') return undefined;
    return (value as Record<string, unknown>)[segment];
  }, record);
}

/** Previews keyed by user and generation, with the same conditional writes as the DynamoDB store. */
export class InMemoryPreviewStore implements PreviewStore, PreviewTokenIndex {
  private readonly records = new Map<string, PreviewRecord>();

  private static key(userId: string, generationId: string): string {
    return `${userId}\u0000${generationId}`;
  }

  /** Stores a record as it is, with no condition: a test's starting state. */
  put(record: PreviewRecord): void {
    this.records.set(InMemoryPreviewStore.key(record.userId, record.generationId), structuredClone(record));
  }

  async get(userId: string, generationId: string): Promise<PreviewRecord | undefined> {
    const record = this.records.get(InMemoryPreviewStore.key(userId, generationId));
    return record && structuredClone(record);
  }

  async getById(previewId: string): Promise<PreviewRecord | undefined> {
    const record = [...this.records.values()].find((r) => r.previewId === previewId);
    return record && structuredClone(record);
  }

  async findByTokenHash(tokenHash: string): Promise<PreviewRecord | undefined> {
    const record = [...this.records.values()].find((r) => r.tokenHash === tokenHash);
    return record && structuredClone(record);
  }

  async listByUser(userId: string): Promise<PreviewRecord[]> {
    return [...this.records.values()].filter((r) => r.userId === userId).map((r) => structuredClone(r));
  }

  async listLive(): Promise<PreviewRecord[]> {
    return [...this.records.values()].filter((r) => !isTerminal(r.status)).map((r) => structuredClone(r));
  }

  async create(record: PreviewRecord, replacing?: PreviewRecord): Promise<void> {
    const stored = this.records.get(InMemoryPreviewStore.key(record.userId, record.generationId));
    const allowed = replacing
      ? stored?.previewId === replacing.previewId && isTerminal(stored.status)
      : stored === undefined;
    if (!allowed) throw changedMeanwhile();
    this.put(record);
  }

  async modify(
    preview: PreviewKey,
    changes: PreviewChanges,
    condition: PreviewCondition = {},
  ): Promise<PreviewRecord> {
    const key = InMemoryPreviewStore.key(preview.userId, preview.generationId);
    const stored = this.records.get(key);
    if (!stored || stored.previewId !== preview.previewId) throw changedMeanwhile();
    if (condition.status && !condition.status.includes(stored.status)) throw changedMeanwhile();
    for (const [path, expected] of Object.entries(condition.equals ?? {})) {
      const actual = fieldAt(stored, path);
      if (expected === null ? actual !== undefined : actual !== expected) throw changedMeanwhile();
    }
    const next: Record<string, unknown> = { ...structuredClone(stored), version: stored.version + 1 };
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) delete next[field];
      else next[field] = structuredClone(value);
    }
    this.records.set(key, next as unknown as PreviewRecord);
    return structuredClone(next as unknown as PreviewRecord);
  }
}

export class InMemoryQuotaStore implements QuotaStore {
  private readonly sets = new Map<string, Set<string>>();

  async reserve(userId: string, previewId: string, limit: number): Promise<boolean> {
    const live = this.sets.get(userId) ?? new Set<string>();
    if (!live.has(previewId) && live.size >= limit) return false;
    live.add(previewId);
    this.sets.set(userId, live);
    return true;
  }
  async release(userId: string, previewId: string): Promise<void> {
    this.sets.get(userId)?.delete(previewId);
  }
  async live(userId: string): Promise<string[]> {
    return [...(this.sets.get(userId) ?? [])];
  }
}

export class InMemoryEventStore implements EventStore {
  readonly events: PreviewEvent[] = [];

  async append(event: PreviewEvent): Promise<void> {
    this.events.push(structuredClone(event));
  }
  async list(previewId: string, options: { limit: number; nextToken?: string }): Promise<Page<PreviewEvent>> {
    const all = this.events.filter((e) => e.previewId === previewId);
    const start = options.nextToken ? Number(options.nextToken) : 0;
    const items = all.slice(start, start + options.limit);
    const next = start + items.length;
    return { items, ...(next < all.length ? { nextToken: String(next) } : {}) };
  }
  typesOf(previewId: string): string[] {
    return this.events.filter((e) => e.previewId === previewId).map((e) => e.type);
  }
}

/** Request buckets added by minute, resource samples kept as recorded. */
export class InMemoryMetricsStore implements MetricsStore {
  private readonly buckets = new Map<string, Map<string, RequestBucket>>();
  readonly resources = new Map<string, ResourceSample[]>();

  async addRequests(previewId: string, bucket: RequestBucket): Promise<void> {
    const byMinute = this.buckets.get(previewId) ?? new Map<string, RequestBucket>();
    const stored = byMinute.get(bucket.minute);
    if (!stored) {
      byMinute.set(bucket.minute, structuredClone(bucket));
    } else {
      const errorTypes: Record<string, number> = { ...stored.errorTypes };
      for (const [type, count] of Object.entries(bucket.errorTypes))
        errorTypes[type] = (errorTypes[type] ?? 0) + count;
      byMinute.set(bucket.minute, {
        minute: bucket.minute,
        requests: stored.requests + bucket.requests,
        errors: stored.errors + bucket.errors,
        durationSumMs: stored.durationSumMs + bucket.durationSumMs,
        bytesIn: stored.bytesIn + bucket.bytesIn,
        bytesOut: stored.bytesOut + bucket.bytesOut,
        errorTypes,
        sketch: mergeBuckets([stored.sketch, bucket.sketch]),
      });
    }
    this.buckets.set(previewId, byMinute);
  }

  async requestBuckets(
    previewId: string,
    range: { start?: Date; end?: Date } = {},
  ): Promise<RequestBucket[]> {
    return [...(this.buckets.get(previewId)?.values() ?? [])]
      .filter((b) => {
        const at = Date.parse(b.minute);
        return (!range.start || at >= range.start.getTime()) && (!range.end || at <= range.end.getTime());
      })
      .sort((a, b) => a.minute.localeCompare(b.minute));
  }

  async recordResources(previewId: string, sample: ResourceSample): Promise<void> {
    this.resources.set(previewId, [...(this.resources.get(previewId) ?? []), sample]);
  }

  async latestResources(previewId: string): Promise<ResourceSample | undefined> {
    return this.resources.get(previewId)?.at(-1);
  }

  async resourceSamples(previewId: string, range: { start: Date; end: Date }): Promise<ResourceSample[]> {
    return (this.resources.get(previewId) ?? []).filter((s) => {
      const at = Date.parse(s.at);
      return at >= range.start.getTime() && at <= range.end.getTime();
    });
  }
}

export class InMemoryConnectionStore implements ConnectionStore {
  private readonly connections = new Map<string, LiveConnection>();

  async put(connection: LiveConnection): Promise<void> {
    this.connections.set(connection.connectionId, structuredClone(connection));
  }
  async get(connectionId: string): Promise<LiveConnection | undefined> {
    const connection = this.connections.get(connectionId);
    return connection && structuredClone(connection);
  }
  async byPreview(previewId: string): Promise<LiveConnection[]> {
    return [...this.connections.values()]
      .filter((c) => c.previewId === previewId)
      .map((c) => structuredClone(c));
  }
  async update(connectionId: string, changes: ConnectionChanges): Promise<boolean> {
    const stored = this.connections.get(connectionId);
    if (!stored) return false;
    this.connections.set(connectionId, { ...stored, ...structuredClone(changes) });
    return true;
  }
  async remove(connectionId: string): Promise<void> {
    this.connections.delete(connectionId);
  }
  ids(): string[] {
    return [...this.connections.keys()];
  }
}

/**
 * The `@connections` endpoint as the service sees it: connections are open, gone (a send answers
 * 410) or failing (a send throws). Every WebSocket message sent is kept, in order, per connection.
 */
export class RecordingChannel implements ConnectionChannel {
  readonly open = new Set<string>();
  readonly gone = new Set<string>();
  readonly failing = new Set<string>();
  readonly closed: string[] = [];
  private readonly sent = new Map<string, string[]>();

  async send(connectionId: string, data: string): Promise<boolean> {
    if (this.failing.has(connectionId)) throw new Error(`the endpoint failed for ${connectionId}`);
    if (this.gone.has(connectionId)) return false;
    this.sent.set(connectionId, [...(this.sent.get(connectionId) ?? []), data]);
    return true;
  }
  async isOpen(connectionId: string): Promise<boolean> {
    return this.open.has(connectionId) && !this.gone.has(connectionId);
  }
  async close(connectionId: string): Promise<void> {
    this.closed.push(connectionId);
    this.open.delete(connectionId);
  }
  /** The WebSocket messages sent to a connection. */
  messagesTo(connectionId: string): string[] {
    return [...(this.sent.get(connectionId) ?? [])];
  }
  /** The server messages sent to a connection, unpacked from its WebSocket messages. */
  received(connectionId: string): Record<string, unknown>[] {
    return this.messagesTo(connectionId).flatMap((data) =>
      data.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>),
    );
  }
}

/** A preview's lines in the order they were written. */
export class InMemoryLogStore implements LogStore {
  private readonly lines = new Map<string, LogEntry[]>();

  async record(previewId: string, entries: readonly LogEntry[]): Promise<void> {
    this.lines.set(previewId, [...(this.lines.get(previewId) ?? []), ...entries]);
  }
  async *entries(scope: LogScope, filter: LogFilter, range: LogRange): AsyncIterable<LogEntry> {
    for (const entry of this.lines.get(scope.previewId) ?? []) {
      if (matchesFilter(entry, filter) && inRange(entry, range)) yield entry;
    }
  }
  async tail(scope: LogScope, filter: LogFilter, count: number): Promise<LogEntry[]> {
    const matching = (this.lines.get(scope.previewId) ?? []).filter((e) => matchesFilter(e, filter));
    return count > 0 ? matching.slice(-count) : [];
  }
}

/** A preview record as the store would hold it; what a test cares about, it sets. */
export function previewRecord(
  fields: Partial<PreviewRecord> & Pick<PreviewRecord, 'previewId'>,
): PreviewRecord {
  return {
    userId: 'user-1',
    generationId: `gen-${fields.previewId}`,
    projectId: 'proj-1',
    tier: 'pro',
    status: 'healthy',
    tokenHash: 'not-a-token-hash',
    dbType: 'none',
    autoMigrateDatabase: false,
    resources: { memoryMb: 1024, cpu: 2, storageGb: 1 },
    sessionSeconds: 7200,
    extensionsUsed: 0,
    maxExtensions: 3,
    restarts: 0,
    createdAt: '2026-01-01T11:00:00.000Z',
    updatedAt: '2026-01-01T11:00:00.000Z',
    timeline: [],
    healthCheck: { endpoint: '/health', intervalSeconds: 10 },
    version: 1,
    ...fields,
  };
}

/**
 * The runtime as the schedules see it: which previews have resources, their resource use, what
 * their databases hold, and stopping them. Stops and stats can be made to fail; it never runs a task.
 */
export class InMemoryRuntime implements TaskRunner {
  readonly kind = 'docker' as const;
  readonly runWaitsForTask = true;
  readonly listed = new Set<string>();
  readonly usage = new Map<string, ContainerStats>();
  readonly failingStops = new Set<string>();
  readonly failingStats = new Set<string>();
  readonly stopped: string[] = [];
  /** What each preview's database holds; a preview not here has none that answers. */
  readonly databases = new Map<string, DatabaseTally>();
  /** The previews whose database was counted, in order. */
  readonly counted: string[] = [];
  /** How each preview's task describes itself; a preview not here has none. */
  readonly described = new Map<string, TaskDescription>();
  /** The options each description was asked with, in order. */
  readonly describedWith: { previewId: string; options: DescribeOptions | undefined }[] = [];

  async run(): Promise<never> {
    throw new Error('this runtime runs no task');
  }
  async stop(previewId: string): Promise<void> {
    if (this.failingStops.has(previewId)) throw new Error(`the runtime refused to stop ${previewId}`);
    this.stopped.push(previewId);
    this.listed.delete(previewId);
  }
  async describe(previewId: string, options?: DescribeOptions): Promise<TaskDescription | undefined> {
    this.describedWith.push({ previewId, options });
    return this.described.get(previewId);
  }
  async list(): Promise<string[]> {
    return [...this.listed];
  }
  async stats(previewId: string): Promise<ContainerStats | undefined> {
    if (this.failingStats.has(previewId)) throw new Error(`no stats for ${previewId}`);
    return this.usage.get(previewId);
  }
  async countDatabase(previewId: string): Promise<DatabaseTally | undefined> {
    this.counted.push(previewId);
    return this.databases.get(previewId);
  }
}
