import { compareCursors } from '../log-cursor.js';
import { logEntry, type LogEntry, type RawLogEvent } from '../log-entry.js';
import { matchesFilter } from '../log-filter.js';
import type { LiveConnection, LogSourceResolver, LogStore, TaskOrigin } from '../log-ports.js';
import { parseLogStream } from '../log-streams.js';
import { logMessage, type LogMessage } from '../live-messages.js';
import type { DeliveryResult, LiveDelivery } from './live-delivery.js';

/** One delivery of a log subscription: lines of one log stream (CloudWatch's DATA_MESSAGE). */
export interface LogBatch {
  readonly logGroup: string;
  readonly logStream: string;
  readonly events: readonly RawLogEvent[];
}

export interface FanOutResult extends DeliveryResult {
  /** Undefined when the stream belongs to no known preview (its lines are dropped). */
  readonly previewId: string | undefined;
  readonly lines: number;
  readonly connections: number;
}

/**
 * Turns a batch of raw lines into log entries (parsed, classified, secrets redacted), keeps them
 * where the platform does not, and sends each live connection of the preview the lines its
 * filters let through.
 */
export class LogFanOut {
  constructor(
    private readonly deps: {
      readonly sources: LogSourceResolver;
      readonly store: LogStore;
      readonly connections: { byPreview(previewId: string): Promise<LiveConnection[]> };
      readonly delivery: LiveDelivery;
    },
  ) {}

  async deliver(batch: LogBatch): Promise<FanOutResult> {
    const stream = parseLogStream(batch.logStream);
    const origin: TaskOrigin | undefined =
      stream?.kind === 'build'
        ? { previewId: stream.previewId, secrets: [] }
        : stream && (await this.deps.sources.taskOrigin(stream.taskId));
    if (!stream || !origin) {
      return { previewId: undefined, lines: 0, connections: 0, sent: 0, gone: 0, failed: 0 };
    }
    const entries = batch.events
      .map((event) => logEntry(event, { container: stream.container, secrets: origin.secrets }))
      .filter((entry): entry is LogEntry => entry !== undefined);
    // The lines are kept before this delivery ends, so a replay that comes after it finds them.
    const [, all] = await Promise.all([
      this.deps.store.record(origin.previewId, entries),
      this.deps.connections.byPreview(origin.previewId),
    ]);
    const connections = all.filter((c) => c.live && c.subscribed);
    const messages = entries.map(logMessage);
    // Connections with the same filter and starting point get the same list, packed once.
    const shared = new Map<string, LogMessage[]>();
    const targets = connections.map((connection) => {
      const key = JSON.stringify([connection.filter, connection.liveAfter]);
      let selected = shared.get(key);
      if (!selected) {
        selected = messages.filter(
          (m) =>
            matchesFilter(m, connection.filter) &&
            (connection.liveAfter === undefined || compareCursors(m.cursor, connection.liveAfter) > 0),
        );
        shared.set(key, selected);
      }
      return { connectionId: connection.connectionId, messages: selected };
    });
    const result = await this.deps.delivery.send(targets);
    return { previewId: origin.previewId, lines: entries.length, connections: connections.length, ...result };
  }
}
