import type { CloudWatchLogsEvent, CloudWatchLogsLogEvent } from 'aws-lambda';
import { encodeSubscriptionEvent } from '#handlers/logs/subscription-event.js';

export interface LogPipelineOptions {
  readonly logGroup: string;
  /** Invokes the subscription's function (the fan-out handler) with one delivery. */
  readonly deliver: (event: CloudWatchLogsEvent) => Promise<unknown>;
  /** How long the first line of a batch waits for more. */
  readonly lingerMs?: number;
  readonly onError?: (error: unknown) => void;
  /**
   * Where a preview's log stands already (its last stored line), read once before its first new
   * line is numbered: cursors continue from there across restarts instead of starting again.
   */
  readonly resumeFrom?: (previewId: string) => Promise<LogPosition | undefined>;
}

/** A preview's last line: its (time-ordered) timestamp and its number. */
export interface LogPosition {
  readonly timestamp: number;
  readonly sequence: bigint;
}

/**
 * A line's event id: its number in the preview's log, then (in the last `originDigits` digits)
 * where its source had it, e.g. a container's output position. Ids grow with the number, and a
 * stored line still tells where its source stood: that is where reading resumes after a restart.
 */
const originDigits = 20n;
const originScale = 10n ** originDigits;

export function lineEventId(sequence: bigint, origin: bigint): string {
  return String(sequence * originScale + (origin % originScale));
}

export function parseLineEventId(id: string): { sequence: bigint; origin: bigint } | undefined {
  if (!/^\d{1,64}$/.test(id)) return undefined;
  const value = BigInt(id);
  return { sequence: value / originScale, origin: value % originScale };
}

interface Pending {
  readonly logStream: string;
  readonly message: string;
  readonly timestamp: number;
  readonly origin: bigint;
}

/** What waits to reach the subscription: lines (one delivery per run of a stream), or a job. */
type Queued =
  | { readonly kind: 'lines'; readonly lines: Pending[]; bytes: number }
  | { readonly kind: 'job'; readonly run: () => Promise<void> };

interface PreviewLog {
  readonly queue: Queued[];
  /** Read once: where the preview's stored log ends. */
  resumed: Promise<void>;
  /** The preview's one delivery loop, while it runs. */
  running?: Promise<void>;
  timer?: NodeJS.Timeout;
  lastTimestamp: number;
  sequence: bigint;
}

/** Jobs run at once when several wait in a row (replays of connections opened together). */
const jobsAtOnce = 32;

/** CloudWatch's limits on one delivery. */
const maxBatchEvents = 10_000;
const maxBatchBytes = 1024 * 1024;

/**
 * The local stand-in for CloudWatch Logs and its subscription filter: lines written by a preview's
 * containers get an id and a timestamp, are batched, and reach the subscribed function as the
 * same gzip + base64 `awslogs` events AWS sends. A preview's deliveries run one after the other,
 * so its lines arrive in order: when none is running, a line waits `lingerMs` (2 ms) for others;
 * while one runs, what is written meanwhile becomes the next delivery, which keeps up under load.
 */
export class LocalLogPipeline {
  private readonly previews = new Map<string, PreviewLog>();
  private readonly lingerMs: number;
  private closed = false;

  constructor(private readonly options: LogPipelineOptions) {
    this.lingerMs = options.lingerMs ?? 2;
  }

  /**
   * One line of a preview's log stream (`preview/<container>/<task id>` or `build/<preview id>`);
   * `origin` is where its source had it (see `lineEventId`).
   */
  write(previewId: string, logStream: string, message: string, timestamp = Date.now(), origin = 0n): void {
    if (this.closed) return;
    const log = this.logOf(previewId);
    const line = { logStream, message, timestamp, origin };
    const bytes = Buffer.byteLength(message) + 26;
    const last = log.queue.at(-1);
    if (last?.kind === 'lines' && last.lines.length < maxBatchEvents && last.bytes + bytes <= maxBatchBytes) {
      last.lines.push(line);
      last.bytes += bytes;
    } else {
      log.queue.push({ kind: 'lines', lines: [line], bytes });
    }
    if (!log.running) log.timer ??= setTimeout(() => this.drain(log), this.lingerMs);
  }

  /**
   * Runs `job` after the preview's deliveries so far and before later ones (a replay, say). Jobs
   * queued one after the other, with no line between them, run together.
   */
  enqueue(previewId: string, job: () => Promise<unknown>): Promise<void> {
    const log = this.logOf(previewId);
    return new Promise<void>((resolve, reject) => {
      log.queue.push({ kind: 'job', run: () => job().then(() => resolve(), reject) });
      this.drain(log);
    });
  }

  /** Delivers everything written so far and waits for it. */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.previews.values()].map(async (log) => {
        while (log.queue.length > 0 || log.running) await (log.running ?? this.drain(log));
      }),
    );
  }

  /** Delivers what is pending; lines written afterwards are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Starts the preview's delivery loop unless it runs; it ends when nothing is left. */
  private drain(log: PreviewLog): Promise<void> {
    clearTimeout(log.timer);
    log.timer = undefined;
    log.running ??= (async () => {
      await log.resumed;
      for (let next = log.queue.shift(); next; next = log.queue.shift()) {
        if (next.kind === 'job') await Promise.all([next, ...takeJobs(log.queue)].map((job) => job.run()));
        else
          for (const batch of byStream(next.lines.map((line) => this.numbered(log, line))))
            await this.deliver(batch);
      }
    })().finally(() => {
      log.running = undefined;
      if (log.queue.length > 0) void this.drain(log);
    });
    return log.running;
  }

  private async deliver(batch: { logStream: string; events: CloudWatchLogsLogEvent[] }): Promise<void> {
    try {
      await this.options.deliver(
        encodeSubscriptionEvent({
          messageType: 'DATA_MESSAGE',
          owner: '000000000000',
          logGroup: this.options.logGroup,
          logStream: batch.logStream,
          subscriptionFilters: ['preview-log-fan-out'],
          logEvents: batch.events,
        }),
      );
    } catch (error) {
      // As CloudWatch, which gives up on a function that keeps failing: later lines still go.
      this.options.onError?.(error);
    }
  }

  /** Cursors are time first: a preview's lines never go back in time, and their numbers only grow. */
  private numbered(log: PreviewLog, line: Pending): { logStream: string; event: CloudWatchLogsLogEvent } {
    log.lastTimestamp = Math.max(log.lastTimestamp, line.timestamp);
    log.sequence += 1n;
    return {
      logStream: line.logStream,
      event: {
        id: lineEventId(log.sequence, line.origin),
        timestamp: log.lastTimestamp,
        message: line.message,
      },
    };
  }

  private logOf(previewId: string): PreviewLog {
    const existing = this.previews.get(previewId);
    if (existing) return existing;
    const log: PreviewLog = { queue: [], resumed: Promise.resolve(), lastTimestamp: 0, sequence: 0n };
    const resumeFrom = this.options.resumeFrom;
    if (resumeFrom) {
      log.resumed = resumeFrom(previewId).then(
        (position) => {
          if (!position) return;
          log.lastTimestamp = Math.max(log.lastTimestamp, position.timestamp);
          if (position.sequence > log.sequence) log.sequence = position.sequence;
        },
        (error: unknown) => this.options.onError?.(error),
      );
    }
    this.previews.set(previewId, log);
    return log;
  }
}

/** The jobs at the head of the queue, up to `jobsAtOnce` with the one taken already. */
function takeJobs(queue: Queued[]): Extract<Queued, { kind: 'job' }>[] {
  const jobs: Extract<Queued, { kind: 'job' }>[] = [];
  for (let head = queue[0]; head?.kind === 'job' && jobs.length < jobsAtOnce - 1; head = queue[0]) {
    jobs.push(head);
    queue.shift();
  }
  return jobs;
}

/** A delivery holds one stream's lines: consecutive lines of the same stream go together, in order. */
function byStream(
  pending: readonly { logStream: string; event: CloudWatchLogsLogEvent }[],
): { logStream: string; events: CloudWatchLogsLogEvent[] }[] {
  const batches: { logStream: string; events: CloudWatchLogsLogEvent[] }[] = [];
  for (const { logStream, event } of pending) {
    const last = batches.at(-1);
    if (last?.logStream === logStream) last.events.push(event);
    else batches.push({ logStream, events: [event] });
  }
  return batches;
}
