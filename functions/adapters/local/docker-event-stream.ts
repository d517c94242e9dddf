import type Docker from 'dockerode';
import type { Readable } from 'node:stream';

/** One of Docker's events, as its event stream sends them (one JSON object a line). */
export interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
  readonly time?: number;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
}

export interface DockerEventStreamOptions {
  readonly filters: Record<string, string[]>;
  readonly onEvent: (event: DockerEvent) => void;
  /**
   * Called after each (re)connection, once the stream is open: `reconnected` is false the first
   * time. What happened while it was away is replayed as events (`since` the last one seen), but
   * an engine that restarted has forgotten its earlier events: this is where state is re-read.
   */
  readonly onConnected?: (reconnected: boolean) => Promise<void>;
  readonly onError?: (error: unknown) => void;
  /** The first wait before reconnecting; it doubles up to `maxBackoffMs`. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * Docker's event stream, kept open: when it ends (the engine stopped or restarted) it is opened
 * again with backoff, from the second of the last event seen, so nothing in between is missed.
 */
export class DockerEventStream {
  private stream: Readable | undefined;
  private lastSeen: number | undefined;
  private connectedBefore = false;
  private backoffMs: number;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerEventStreamOptions,
  ) {
    this.backoffMs = options.minBackoffMs ?? 250;
  }

  /** Connects (or keeps trying in the background when the engine is away). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.stream?.destroy();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({
        filters: this.options.filters,
        ...(this.lastSeen === undefined ? {} : { since: this.lastSeen }),
      })) as Readable;
    } catch (error) {
      this.options.onError?.(error);
      this.reconnectLater();
      return;
    }
    if (this.stopped) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    const reconnected = this.connectedBefore;
    this.connectedBefore = true;
    this.backoffMs = this.options.minBackoffMs ?? 250;
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        let event: DockerEvent;
        try {
          event = JSON.parse(line) as DockerEvent;
        } catch (error) {
          this.options.onError?.(error);
          continue;
        }
        if (event.time !== undefined) this.lastSeen = event.time;
        this.options.onEvent(event);
      }
    });
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      if (error) this.options.onError?.(error);
      if (this.stream === stream) this.stream = undefined;
      this.reconnectLater();
    };
    stream.on('error', end);
    stream.on('end', () => end());
    stream.on('close', () => end());
    await this.options.onConnected?.(reconnected).catch((error: unknown) => this.options.onError?.(error));
  }

  private reconnectLater(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    const wait = this.backoffMs;
    this.backoffMs = Math.min(wait * 2, this.options.maxBackoffMs ?? 5000);
    this.retry = setTimeout(() => void this.connect(), wait);
  }
}
