import type Docker from 'dockerode';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogStore } from '#adapters/local/file-log-store.js';
import { LocalExportStore } from '#adapters/local/local-export-store.js';
import type { Clock } from '#core/clock.js';
import type { LogAdapters } from '#core/log-ports.js';
import { eventFunctions } from '#handlers/registry.js';
import { buildLogStream, taskLogStream } from '#core/log-streams.js';
import { cursorTime } from '#core/log-cursor.js';
import { DockerLogFollower, type FollowedContainer } from '#adapters/local/docker-log-follower.js';
import { LocalExportDownloads } from './export-downloads.js';
import type { GatewayExtension } from './gateway.js';
import { LocalLogPipeline, parseLineEventId, type LogPosition } from './log-pipeline.js';
import { LocalLogSources } from './local-log-sources.js';
import { LocalWebSocketApi } from './websocket-api.js';

/** The log group the local pipeline names in its deliveries (`/preview/<stage>` in AWS). */
const localLogGroup = '/preview/local';
const pruneEveryMs = 6 * 3600_000;
const report = (error: unknown) => console.error('local logs:', error);
/**
 * A container line's origin (see `lineEventId`): its Docker timestamp in nanoseconds, then one
 * digit for the container, so the stored log tells where each container's output was read up to.
 */
const containerDigits: Readonly<Record<string, bigint>> = { database: 1n, migrate: 2n, seed: 3n, app: 4n };

function containerLineOrigin(container: string, stampNs: bigint): bigint {
  return stampNs * 10n + (containerDigits[container] ?? 0n);
}

/**
 * The local log path, end to end: preview output (Docker containers, process children, image
 * builds) → the CloudWatch stand-in (batched `awslogs` deliveries) → the fan-out handler → the
 * WebSocket API stand-in; lines kept in `<dataDir>/logs`, large exports in `<dataDir>/exports`.
 */
export class LocalLogs {
  readonly sources = new LocalLogSources();
  readonly pipeline: LocalLogPipeline;
  readonly webSocketApi = new LocalWebSocketApi();
  readonly extensions: readonly GatewayExtension[];
  private readonly store: FileLogStore;
  private readonly exports: LocalExportStore;
  private pruning: NodeJS.Timeout | undefined;
  private gatewayUrl = '';

  private constructor(
    private readonly directory: string,
    private readonly temporary: boolean,
    private readonly clock: Clock,
  ) {
    this.store = new FileLogStore(join(directory, 'logs'));
    this.exports = new LocalExportStore(join(directory, 'exports'), () => this.gatewayUrl, clock);
    this.extensions = [this.webSocketApi, new LocalExportDownloads(this.exports)];
    this.pipeline = new LocalLogPipeline({
      logGroup: localLogGroup,
      // Loaded on first use, like a Lambda cold start.
      deliver: async (event) => (await eventFunctions['log-fan-out'].module.load()).handler(event),
      onError: report,
      resumeFrom: (previewId) => this.storedPosition(previewId),
    });
  }

  /** Under `dataDir` (kept), or in a temporary folder removed by `close`. */
  static async create(options: { dataDir: string | undefined; clock: Clock }): Promise<LocalLogs> {
    const directory = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'preview-logs-')));
    return new LocalLogs(directory, options.dataDir === undefined, options.clock);
  }

  /**
   * The service's log adapters, once the gateway (the `@connections` endpoint) listens; logs older
   * than the retention period are deleted now and every few hours.
   */
  start(gatewayUrl: string, retentionDays: number): LogAdapters {
    this.gatewayUrl = gatewayUrl;
    const prune = () => void this.store.prune(retentionDays, this.clock.now()).catch(report);
    prune();
    this.pruning = setInterval(prune, pruneEveryMs).unref();
    return {
      store: this.store,
      sources: this.sources,
      exports: this.exports,
      managementEndpoint: gatewayUrl,
      channel: this.webSocketApi.channel,
      replay: {
        // After `$connect` has answered, in the preview's delivery order.
        start: async ({ connectionId, previewId }) => {
          void this.pipeline
            .enqueue(previewId, async () => {
              const { handler } = await eventFunctions['log-replay'].module.load();
              await handler({ connectionId, previewId });
            })
            .catch(report);
        },
      },
    };
  }

  /** A line a process child printed; its task is the preview itself. */
  processLine(previewId: string, container: string, line: string): void {
    this.sources.register(previewId, { previewId, secrets: [] });
    this.pipeline.write(previewId, taskLogStream(container, previewId), line);
  }

  buildLine(previewId: string, line: string): void {
    this.pipeline.write(previewId, buildLogStream(previewId), line);
  }

  /**
   * Follows the output of this instance's preview containers (`owner`) until the returned handle
   * stops, each from after its last line already kept.
   */
  async followDocker(docker: Docker, owner?: string): Promise<{ stop(): Promise<void> }> {
    const follower = new DockerLogFollower(docker, {
      register: (taskId, origin) => this.sources.register(taskId, origin),
      line: (line) =>
        this.pipeline.write(
          line.previewId,
          taskLogStream(line.container, line.taskId),
          line.message,
          line.timestamp,
          containerLineOrigin(line.container, line.stampNs),
        ),
      keptUntil: (container) => this.keptUntil(container),
      ...(owner ? { owner } : {}),
      onError: (error) => console.error('local logs: following Docker failed', error),
    });
    await follower.start();
    return follower;
  }

  /** Where the preview's stored log ends: cursors continue from there. */
  private async storedPosition(previewId: string): Promise<LogPosition | undefined> {
    for await (const entry of this.store.newest(previewId)) {
      const [, id] = entry.cursor.split('-');
      const parsed = id === undefined ? undefined : parseLineEventId(id);
      return parsed && { timestamp: cursorTime(entry.cursor).getTime(), sequence: parsed.sequence };
    }
    return undefined;
  }

  /**
   * The Docker timestamp of the container's last stored line, read from the end of the preview's
   * log back to the container's start (no line of it is older).
   */
  private async keptUntil(container: FollowedContainer): Promise<bigint | undefined> {
    const digit = containerDigits[container.container];
    if (digit === undefined) return undefined;
    const startedMs = Number(container.startedNs / 1_000_000n);
    for await (const entry of this.store.newest(container.previewId)) {
      if (cursorTime(entry.cursor).getTime() < startedMs) return undefined;
      const parsed = parseLineEventId(entry.cursor.split('-')[1] ?? '');
      if (!parsed || parsed.origin % 10n !== digit) continue;
      const stampNs = parsed.origin / 10n;
      if (stampNs >= container.startedNs) return stampNs;
    }
    return undefined;
  }

  /** Closes WebSocket connections, delivers what is pending, and removes a temporary folder. */
  async close(): Promise<void> {
    clearInterval(this.pruning);
    await this.webSocketApi.close();
    await this.pipeline.close();
    await this.store.close();
    if (this.temporary) await rm(this.directory, { recursive: true, force: true });
  }
}
