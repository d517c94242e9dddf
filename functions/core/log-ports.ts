import type { LiveEnding } from './live-messages.js';
import type { LogEntry, RawLogEvent } from './log-entry.js';
import type { ExportFile } from './log-export.js';
import type { LogFilter, LogRange } from './log-filter.js';
import type { ResourceSample } from './metrics.js';
import type { PreviewHealth, PreviewRecord } from './preview.js';
import type { StorageUsage } from './storage-allowance.js';

/** Ports of the log pipeline and the live stream (logs, status, health, metrics over WebSocket). */

/** One delivery of a log subscription: lines of one log stream (CloudWatch's DATA_MESSAGE). */
export interface LogBatch {
  readonly logGroup: string;
  readonly logStream: string;
  readonly events: readonly RawLogEvent[];
}

/**
 * Hands a part of a preview's connections to a fan-out running in parallel (an asynchronous
 * invocation of the fan-out function in AWS), so that a large audience is served by several at once.
 */
export interface FanOutSlicer {
  /** Resolves once the slice is handed over; throws when it cannot be (then it is served here). */
  start(batch: LogBatch, connectionIds: readonly string[]): Promise<void>;
}

/** What a log store needs to find a preview's lines. */
export type LogScope = Pick<PreviewRecord, 'previewId' | 'taskId'>;

/** Where processed lines are kept for queries and replays: CloudWatch Logs in AWS, files locally. */
export interface LogStore {
  /** Keeps lines where the platform does not keep them already (CloudWatch holds every line). */
  record(previewId: string, entries: readonly LogEntry[]): Promise<void>;
  /** The matching lines of the range, oldest first, read as they are consumed: memory stays flat. */
  entries(scope: LogScope, filter: LogFilter, range: LogRange): AsyncIterable<LogEntry>;
  /** The last `count` matching lines, oldest first. */
  tail(scope: LogScope, filter: LogFilter, count: number): Promise<LogEntry[]>;
}

/** The task a log stream belongs to: its preview and the secrets the task was given. */
export interface TaskOrigin {
  readonly previewId: string;
  readonly secrets: readonly string[];
}

/**
 * The secrets each preview's lines must not show (the values its tasks were given), kept as long as
 * its logs are, so lines read after its tasks are gone are redacted alike.
 */
export interface RedactionLists {
  /** Adds to the preview's list and keeps the whole list at least until `keepUntil`. */
  add(previewId: string, secrets: readonly string[], keepUntil: Date): Promise<void>;
  secrets(previewId: string): Promise<string[]>;
}

/** Maps task ids (in log stream names) to previews: ECS in AWS, the local runtime's own table locally. */
export interface LogSourceResolver {
  taskOrigin(taskId: string): Promise<TaskOrigin | undefined>;
}

/** A client of the live stream, as stored between its messages. */
export interface LiveConnection {
  readonly connectionId: string;
  readonly previewId: string;
  readonly userId: string;
  readonly generationId: string;
  /** Hash of the preview token the connection opened with: a rotation closes it. */
  readonly tokenHash?: string;
  readonly connectedAt: string;
  readonly filter: LogFilter;
  /** False after `unsubscribe`: no log lines, still status, health and metrics. */
  readonly subscribed: boolean;
  /** What the client asked to see again when it connected: lines after a cursor, or the last N. */
  readonly replay: { readonly after?: string; readonly buffer: number };
  /** True once the socket is open and its status snapshot is on its way: status changes reach it from then on. */
  readonly opened?: boolean;
  /** True once the replay was sent; live lines are then those after `liveAfter` (all, if unset). */
  readonly live: boolean;
  readonly liveAfter?: string;
}

export type ConnectionChanges = Partial<
  Pick<LiveConnection, 'filter' | 'subscribed' | 'opened' | 'live' | 'liveAfter'>
>;

export interface ConnectionStore {
  put(connection: LiveConnection): Promise<void>;
  get(connectionId: string): Promise<LiveConnection | undefined>;
  byPreview(previewId: string): Promise<LiveConnection[]>;
  /** Changes a stored connection; false when it is gone. */
  update(connectionId: string, changes: ConnectionChanges): Promise<boolean>;
  remove(connectionId: string): Promise<void>;
}

/** Sends to WebSocket clients: API Gateway's management API (its `@connections` endpoint). */
export interface ConnectionChannel {
  /** False when the connection is gone (410). */
  send(connectionId: string, data: string): Promise<boolean>;
  /** True once the connection is established and still open. */
  isOpen(connectionId: string): Promise<boolean>;
  /** Closes a connection from the service's side (DeleteConnection); one already gone is left be. */
  close(connectionId: string): Promise<void>;
}

/**
 * Sends a new connection what it asked to see again. Runs after `$connect` has answered (nothing
 * can be sent to a connection before): an asynchronous invocation in AWS, a queued call locally.
 */
export interface ReplayStarter {
  start(connection: Pick<LiveConnection, 'connectionId' | 'previewId'>): Promise<void>;
}

/** Finds a preview by the hash of its current token. */
export interface PreviewTokenIndex {
  findByTokenHash(tokenHash: string): Promise<PreviewRecord | undefined>;
}

/** Keeps an export too large to answer inline, and gives a URL that downloads it for a while. */
export interface ExportStore {
  save(
    file: ExportFile,
    chunks: AsyncIterable<Buffer>,
    previewId: string,
  ): Promise<{ readonly url: string; readonly expiresAt: Date; readonly bytes: number }>;
}

/** What the rest of the service tells the live stream about a preview. */
export interface LiveNotifier {
  statusChanged(record: PreviewRecord): Promise<void>;
  resourcesSampled(previewId: string, sample: ResourceSample): Promise<void>;
  healthChecked(previewId: string, health: PreviewHealth, previous: PreviewHealth | undefined): Promise<void>;
  expiring(previewId: string, secondsLeft: number): Promise<void>;
  /**
   * Ends the connections that may not stay, after a `closing` message saying why: all of them once
   * the preview has finished, else those opened with a token other than its current one.
   */
  closeConnections(record: PreviewRecord, ending: LiveEnding): Promise<void>;
  /** The preview's storage is past the warning share of its allowance. */
  storageFilling(previewId: string, usage: StorageUsage): Promise<void>;
}

/** What an environment plugs into the log pipeline: AWS services, or the local runtime's stand-ins. */
export interface LogAdapters {
  readonly store: LogStore;
  readonly sources: LogSourceResolver;
  readonly replay: ReplayStarter;
  /** Absent where large exports cannot be offered (they answer 501). */
  readonly exports: ExportStore | undefined;
  /** Where the `@connections` API answers: the WebSocket API stage's URL, or the local gateway. */
  readonly managementEndpoint: string;
  /**
   * The `@connections` API reached directly where it is served in this process (the local stand-in);
   * otherwise the management endpoint is called through API Gateway's client.
   */
  readonly channel?: ConnectionChannel;
  /** Where a large connection set may be split across parallel fan-outs; one fan-out serves all otherwise. */
  readonly slicer?: FanOutSlicer;
}
