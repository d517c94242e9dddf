import type { Clock } from '../clock.js';
import { AppError, errorBody } from '../errors.js';
import { hashToken, tokenMatches } from '../ids.js';
import { cursorToken } from '../log-cursor.js';
import { isTerminal } from '../lifecycle.js';
import type { LogEntry } from '../log-entry.js';
import { logFilter, type LogFilter, type LogRange } from '../log-filter.js';
import type {
  ConnectionChannel,
  ConnectionStore,
  LiveConnection,
  LiveNotifier,
  LogStore,
  PreviewTokenIndex,
  ReplayStarter,
} from '../log-ports.js';
import type { ConnectQuery } from '../live-schemas.js';
import {
  closingMessage,
  healthMessage,
  logMessage,
  metricMessage,
  statusMessage,
  storageWarningMessage,
  subscribedMessage,
  type LiveEnding,
  type ServerMessage,
} from '../live-messages.js';
import { minuteOf, type ResourceSample } from '../metrics.js';
import type { MetricsStore, PreviewStore } from '../ports.js';
import type { PreviewHealth, PreviewRecord } from '../preview.js';
import { previewWsUrl, type PreviewUrls } from '../preview-views.js';
import type { StorageUsage } from '../storage-allowance.js';
import type { LiveDelivery } from './live-delivery.js';

export interface LiveConnectionsDependencies {
  readonly previews: PreviewStore;
  readonly tokens: PreviewTokenIndex;
  readonly connections: ConnectionStore;
  readonly channel: ConnectionChannel;
  readonly delivery: LiveDelivery;
  readonly logs: LogStore;
  readonly replay: ReplayStarter;
  readonly metrics: MetricsStore;
  readonly clock: Clock;
  /** Where a closed connection is pointed to connect again. */
  readonly urls: PreviewUrls;
  /** Connections one preview accepts at a time; one more answers 429. */
  readonly maxConnectionsPerPreview: number;
  /** How long a replay waits for its connection to be established. */
  readonly openWaitMs?: number;
  /** Notifications never fail what caused them; their errors end here. */
  readonly onError?: (error: unknown, context: string) => void;
}

/** Lines a replay sends at most: beyond, a `truncated` message says where GET …/preview/logs goes on. */
export const maxReplayLines = 10_000;
/** When a client refused for too many connections may try again. */
const connectionRetrySeconds = 5;
/** A connection younger than this may still be in its handshake, which GetConnection does not see. */
const handshakeGraceMs = 30_000;
/** Replayed lines are read and sent this many at a time, so memory stays flat. */
const replayChunk = 1000;
const openPollMs = 25;
/** Status messages go to connections whose snapshot was sent or is being sent. */
const statusReceiver = (connection: LiveConnection) => connection.live || connection.opened === true;

/**
 * The live stream of a preview over WebSocket: who may connect (the preview token), what each
 * client wants (filters, a replay of recent lines or everything after a cursor), and the
 * status, health and metric messages pushed to the preview's clients.
 */
export class LiveConnections implements LiveNotifier {
  constructor(private readonly deps: LiveConnectionsDependencies) {}

  /**
   * The `$connect` check: the token must be the current token of a live preview (of the
   * generation in the URL, when it names one). Throws 401/403, which refuses the handshake.
   */
  async connect(connectionId: string, query: ConnectQuery): Promise<LiveConnection> {
    if (!query.token) throw new AppError('unauthorized', 'A preview token is required (?token=).');
    const indexed = await this.deps.tokens.findByTokenHash(hashToken(query.token));
    // The index lags the table: read the record itself for its current token.
    const record = indexed && (await this.deps.previews.get(indexed.userId, indexed.generationId));
    if (!record || record.previewId !== indexed?.previewId || !tokenMatches(query.token, record.tokenHash)) {
      throw new AppError(
        'unauthorized',
        'The preview token is not valid (a restart or a rotation replaces it).',
      );
    }
    if (query.generationId !== undefined && query.generationId !== record.generationId) {
      throw new AppError('forbidden', `The preview token is not for generation ${query.generationId}.`);
    }
    if (isTerminal(record.status)) {
      throw new AppError(
        'forbidden',
        `The preview is ${record.status}, so its token has expired; its logs remain available from GET …/preview/logs.`,
      );
    }
    const connection: LiveConnection = {
      connectionId,
      previewId: record.previewId,
      userId: record.userId,
      generationId: record.generationId,
      tokenHash: record.tokenHash,
      connectedAt: this.deps.clock.now().toISOString(),
      filter: logFilter(query),
      subscribed: true,
      replay: { buffer: query.buffer, ...(query.after ? { after: query.after } : {}) },
      live: false,
    };
    await this.deps.connections.put(connection);
    // Checked after the write, so that racing handshakes and a racing rotation see each other.
    try {
      await this.admitted(connection);
    } catch (error) {
      await this.deps.connections.remove(connectionId);
      throw error;
    }
    await this.deps.replay.start(connection);
    return connection;
  }

  private async admitted(connection: LiveConnection): Promise<void> {
    const limit = this.deps.maxConnectionsPerPreview;
    let others = (await this.deps.connections.byPreview(connection.previewId)).filter(
      (c) => c.connectionId !== connection.connectionId,
    );
    // Items whose `$disconnect` was lost would hold places for hours: those closed are let go.
    if (others.length >= limit) others = await this.stillOpen(others);
    if (others.length >= limit) {
      throw new AppError(
        'rate_limited',
        `This preview has ${limit} live connections, the most it accepts; close one and connect again.`,
        { limit },
        connectionRetrySeconds,
      );
    }
    const current = await this.deps.previews.get(connection.userId, connection.generationId);
    if (current?.previewId !== connection.previewId || current.tokenHash !== connection.tokenHash) {
      throw new AppError(
        'unauthorized',
        'The preview token is not valid (a restart or a rotation replaces it).',
      );
    }
    // A stop that closed the preview's connections before this one was written would miss it.
    if (isTerminal(current.status)) {
      throw new AppError('forbidden', `The preview is ${current.status}, so its token has expired.`);
    }
  }

  /** The connections still open, or too young to tell (their handshake may be under way). */
  private async stillOpen(connections: readonly LiveConnection[]): Promise<LiveConnection[]> {
    const settledBefore = this.deps.clock.now().getTime() - handshakeGraceMs;
    const open = await Promise.all(
      connections.map(async (c) => {
        if (Date.parse(c.connectedAt) > settledBefore || (await this.deps.channel.isOpen(c.connectionId)))
          return true;
        await this.deps.connections.remove(c.connectionId);
        return false;
      }),
    );
    return connections.filter((_, i) => open[i]);
  }

  /**
   * Ends the connections that may not stay: all of them once the preview has finished, else those
   * opened with a token other than its current one. Each is sent a `closing` message (the close
   * code, why, and where to go on), then closed (API Gateway's DeleteConnection), so nothing more
   * reaches it. Never fails what caused it.
   */
  async closeConnections(record: PreviewRecord, ending: LiveEnding): Promise<void> {
    try {
      const finished = isTerminal(record.status);
      const ended = (await this.deps.connections.byPreview(record.previewId)).filter(
        (c) => finished || c.tokenHash !== record.tokenHash,
      );
      const closing = [closingMessage(record, ending, previewWsUrl(this.deps.urls, record.generationId))];
      await Promise.all(
        ended.map(async ({ connectionId }) => {
          await this.deps.connections.remove(connectionId);
          await this.deps.delivery.send([{ connectionId, messages: closing }]);
          await this.deps.channel.close(connectionId);
        }),
      );
    } catch (error) {
      this.deps.onError?.(error, `closing connections of ${record.previewId} (${ending.cause})`);
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.deps.connections.remove(connectionId);
  }

  /**
   * Sends a new connection what it asked to see again, then lets live lines through: lines after
   * the last one sent (or after the client's cursor), so none is missed and none comes twice.
   */
  async replay(connectionId: string): Promise<number> {
    const connection = await this.deps.connections.get(connectionId);
    if (!connection || connection.live) return 0;
    if (!(await this.waitUntilOpen(connectionId))) {
      await this.deps.connections.remove(connectionId);
      return 0;
    }
    // Status changes reach the connection from here on, so none falls between the snapshot and them.
    await this.deps.connections.update(connectionId, { opened: true });
    const record = await this.deps.previews.getById(connection.previewId);
    if (!record) return 0;
    // The snapshot first: a client knows where the preview stands before any line.
    await this.deps.delivery.send([
      { connectionId, messages: [statusMessage(record, this.deps.clock.now())] },
    ]);
    const scope = { previewId: connection.previewId, ...(record.taskId ? { taskId: record.taskId } : {}) };
    const { filter, replay } = connection;
    const recent =
      replay.after === undefined && replay.buffer > 0
        ? await this.deps.logs.tail(scope, filter, replay.buffer)
        : [];
    let last = recent.at(-1)?.cursor ?? replay.after;
    let sent = 0;
    const send = async (lines: readonly LogEntry[]) => {
      await this.deps.delivery.send([{ connectionId, messages: lines.map(logMessage) }]);
      last = lines.at(-1)?.cursor ?? last;
      sent += lines.length;
    };
    await send(recent);
    const range: LogRange =
      last !== undefined ? { after: last } : { start: new Date(connection.connectedAt) };
    let chunk: LogEntry[] = [];
    let truncated = false;
    for await (const entry of this.deps.logs.entries(scope, filter, range)) {
      if (sent + chunk.length >= maxReplayLines) {
        truncated = true;
        break;
      }
      chunk.push(entry);
      if (chunk.length < replayChunk) continue;
      await send(chunk);
      chunk = [];
    }
    await send(chunk);
    if (truncated) {
      await this.reply(connectionId, {
        type: 'truncated',
        replayed: sent,
        message: `More than ${maxReplayLines} lines to replay; GET …/preview/logs?nextToken=… has the rest.`,
        ...(last ? { after: last, nextToken: cursorToken(last) } : {}),
      });
    }
    await this.deps.connections.update(connectionId, { live: true, ...(last ? { liveAfter: last } : {}) });
    return sent;
  }

  async subscribe(connectionId: string, filters: Parameters<typeof logFilter>[0]): Promise<LogFilter> {
    const filter = logFilter(filters);
    await this.changeOrFail(connectionId, { filter, subscribed: true });
    await this.reply(connectionId, subscribedMessage(filter));
    return filter;
  }

  async unsubscribe(connectionId: string): Promise<void> {
    await this.changeOrFail(connectionId, { subscribed: false });
    await this.reply(connectionId, { type: 'unsubscribed' });
  }

  async ping(connectionId: string): Promise<void> {
    await this.reply(connectionId, { type: 'pong', timestamp: this.deps.clock.now().toISOString() });
  }

  /** Tells the client what was wrong with its message, in the service's error shape. */
  async refuse(connectionId: string, error: AppError): Promise<void> {
    await this.reply(connectionId, { type: 'error', ...errorBody(error) });
  }

  async statusChanged(record: PreviewRecord): Promise<void> {
    await this.notify(
      record.previewId,
      'status',
      () => [statusMessage(record, this.deps.clock.now())],
      statusReceiver,
    );
  }

  /** A metric message per resource sample, with the requests of the last full minute. */
  async resourcesSampled(previewId: string, sample: ResourceSample): Promise<void> {
    await this.notify(previewId, 'metric', async () => {
      const minute = new Date(minuteOf(new Date(Date.parse(sample.at) - 60_000)));
      const buckets = await this.deps.metrics.requestBuckets(previewId, { start: minute, end: minute });
      return [metricMessage(sample, buckets[0])];
    });
  }

  async healthChecked(
    previewId: string,
    health: PreviewHealth,
    previous: PreviewHealth | undefined,
  ): Promise<void> {
    const message = healthMessage(health, previous);
    if (message.changes.length === 0 && previous?.status === health.status) return;
    await this.notify(previewId, 'health', () => [message]);
  }

  async expiring(previewId: string, secondsLeft: number): Promise<void> {
    await this.notify(
      previewId,
      'expiry',
      async () => {
        const record = await this.deps.previews.getById(previewId);
        return record ? [statusMessage(record, this.deps.clock.now(), secondsLeft)] : [];
      },
      statusReceiver,
    );
  }

  async storageFilling(previewId: string, usage: StorageUsage): Promise<void> {
    await this.notify(previewId, 'storage warning', () => [storageWarningMessage(usage.at, usage)]);
  }

  private async notify(
    previewId: string,
    what: string,
    messages: () => Promise<readonly ServerMessage[]> | readonly ServerMessage[],
    accept?: (connection: LiveConnection) => boolean,
  ): Promise<void> {
    try {
      await this.deps.delivery.broadcast(previewId, messages, accept);
    } catch (error) {
      this.deps.onError?.(error, `${what} message for ${previewId}`);
    }
  }

  private async reply(connectionId: string, message: ServerMessage): Promise<void> {
    await this.deps.delivery.send([{ connectionId, messages: [message] }]);
  }

  private async changeOrFail(connectionId: string, changes: Parameters<ConnectionStore['update']>[1]) {
    if (!(await this.deps.connections.update(connectionId, changes))) {
      throw new AppError('not_found', 'This connection is not registered any more; connect again.');
    }
  }

  private async waitUntilOpen(connectionId: string): Promise<boolean> {
    const deadline = Date.now() + (this.deps.openWaitMs ?? 3000);
    for (;;) {
      if (await this.deps.channel.isOpen(connectionId)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, openPollMs));
    }
  }
}
