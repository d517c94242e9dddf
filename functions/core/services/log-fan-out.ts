import { compareCursors } from '../log-cursor.js';
import { logEntry, type LogEntry } from '../log-entry.js';
import { matchesFilter } from '../log-filter.js';
import type {
  FanOutSlicer,
  LiveConnection,
  LogBatch,
  LogSourceResolver,
  LogStore,
  TaskOrigin,
} from '../log-ports.js';
import { parseLogStream } from '../log-streams.js';
import { logMessage, type LogMessage } from '../live-messages.js';
import type { DeliveryResult, LiveDelivery } from './live-delivery.js';

export interface FanOutResult extends DeliveryResult {
  /** Undefined when the stream belongs to no known preview (its lines are dropped). */
  readonly previewId: string | undefined;
  readonly lines: number;
  /** Connections sent to by this fan-out (not those of the slices it handed over). */
  readonly connections: number;
  /** Slices of the preview's connections handed to parallel fan-outs. */
  readonly slices: number;
}

/**
 * Turns a batch of raw lines into log entries (parsed, classified, secrets redacted), keeps them
 * where the platform does not, and sends each live connection of the preview the lines its
 * filters let through. A preview with more than `sliceConnections` connections is served in
 * slices: this fan-out keeps the first, the slicer hands each other one to a parallel fan-out,
 * which sends the same batch to the connections of its slice alone.
 */
export class LogFanOut {
  constructor(
    private readonly deps: {
      readonly sources: LogSourceResolver;
      readonly store: LogStore;
      readonly connections: { byPreview(previewId: string): Promise<LiveConnection[]> };
      readonly delivery: LiveDelivery;
      readonly slicer?: FanOutSlicer | undefined;
      readonly sliceConnections: number;
      /** A slice that could not be handed over (it is then served here). */
      readonly onSliceError?: (error: unknown) => void;
    },
  ) {}

  /** The batch to every connection of its preview, or (a slice) to the connections named. */
  async deliver(batch: LogBatch, slice?: readonly string[]): Promise<FanOutResult> {
    const stream = parseLogStream(batch.logStream);
    const origin: TaskOrigin | undefined =
      stream?.kind === 'build'
        ? { previewId: stream.previewId, secrets: [] }
        : stream && (await this.deps.sources.taskOrigin(stream.taskId));
    if (!stream || !origin) {
      return { previewId: undefined, lines: 0, connections: 0, slices: 0, sent: 0, gone: 0, failed: 0 };
    }
    const entries = batch.events
      .map((event) => logEntry(event, { container: stream.container, secrets: origin.secrets }))
      .filter((entry): entry is LogEntry => entry !== undefined);
    // The lines are kept before this delivery ends, so a replay that comes after it finds them.
    // A slice's lines were kept by the fan-out that handed it over.
    const [, all] = await Promise.all([
      slice ? undefined : this.deps.store.record(origin.previewId, entries),
      this.deps.connections.byPreview(origin.previewId),
    ]);
    const named = slice && new Set(slice);
    let connections = all.filter((c) => c.live && c.subscribed && (!named || named.has(c.connectionId)));
    let slices = 0;
    if (!slice && this.deps.slicer && connections.length > this.deps.sliceConnections) {
      ({ kept: connections, handed: slices } = await this.handOver(batch, connections, this.deps.slicer));
    }
    const result = await this.deps.delivery.send(this.targets(entries.map(logMessage), connections));
    return {
      previewId: origin.previewId,
      lines: entries.length,
      connections: connections.length,
      slices,
      ...result,
    };
  }

  /**
   * Starts a parallel fan-out for every slice after the first; answers the connections this
   * fan-out serves: the first slice, and those of any slice that could not be handed over.
   */
  private async handOver(
    batch: LogBatch,
    connections: readonly LiveConnection[],
    slicer: FanOutSlicer,
  ): Promise<{ kept: LiveConnection[]; handed: number }> {
    const size = this.deps.sliceConnections;
    const parts: LiveConnection[][] = [];
    for (let i = 0; i < connections.length; i += size) parts.push(connections.slice(i, i + size));
    const [first = [], ...rest] = parts;
    const unhanded = await Promise.all(
      rest.map(async (part) => {
        try {
          await slicer.start(
            batch,
            part.map((c) => c.connectionId),
          );
          return undefined;
        } catch (error) {
          this.deps.onSliceError?.(error);
          return part;
        }
      }),
    );
    const left = unhanded.filter((part) => part !== undefined);
    return { kept: [...first, ...left.flat()], handed: rest.length - left.length };
  }

  /** Connections with the same filter and starting point get the same list, packed once. */
  private targets(messages: readonly LogMessage[], connections: readonly LiveConnection[]) {
    const shared = new Map<string, LogMessage[]>();
    return connections.map((connection) => {
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
  }
}
