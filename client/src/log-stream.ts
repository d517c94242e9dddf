import {
  closeCodes,
  compareCursors,
  type ClosingMessage,
  type ErrorMessage,
  type HealthMessage,
  type LiveMessage,
  type LogFilters,
  type LogMessage,
  type MetricMessage,
  type StatusMessage,
  type TruncatedMessage,
  type WarningMessage,
} from './messages.js';

/**
 * What the stream needs of a WebSocket: the browser's, Node 22's global one and the `ws` package's
 * all fit. Handler parameters are `never` so that each implementation's own event types are accepted.
 */
export interface WebSocketLike {
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'ended';

export interface PreviewLogStreamOptions {
  /** The preview's `wsUrl`, from launch or status. */
  readonly url: string;
  /**
   * The preview token, or a function returning a current one: it is asked once, and again after
   * the service said the token no longer works (a rotation, a recovery or a restart replaced it).
   * The service never sends the new token over the socket: the function gets it over REST (the
   * launch that restarted the preview, or `POST …/preview/token`, which closes the other
   * connections of the preview with 4003, so share one token in an app rather than rotate per stream).
   */
  readonly previewToken: string | (() => string | Promise<string>);
  readonly filters?: LogFilters;
  /** On the first connection: the last N lines first (at most 1000). Ignored with `after`. */
  readonly buffer?: number;
  /** On the first connection: every line after this cursor first. */
  readonly after?: string;
  /** The WebSocket implementation; `globalThis.WebSocket` by default (pass `ws`'s on Node 20). */
  readonly WebSocket?: WebSocketConstructor;
  readonly reconnect?: {
    /** First delay; each failed attempt doubles it, up to `maxDelayMs`, with jitter. */
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    /** Attempts in a row without receiving anything before the stream gives up. */
    readonly maxAttempts?: number;
  };
  /** How often to ping; a connection silent for two intervals is dropped and reopened. 0: never. */
  readonly heartbeatMs?: number;
}

interface StreamEvents {
  /** Every message, in order, after duplicates are dropped (after the listeners of its type). */
  message: (message: LiveMessage) => void;
  log: (message: LogMessage) => void;
  status: (message: StatusMessage) => void;
  health: (message: HealthMessage) => void;
  metric: (message: MetricMessage) => void;
  warning: (message: WarningMessage) => void;
  truncated: (message: TruncatedMessage) => void;
  /** The service is about to close the connection, and says why (and where to go on). */
  closing: (message: ClosingMessage) => void;
  /** An error message of the service (the one error shape), e.g. a rotated token. */
  error: (message: ErrorMessage) => void;
  state: (state: StreamState, detail: { attempt: number; delayMs?: number; reason?: string }) => void;
  end: (reason: string) => void;
}

type Listener = (...args: never[]) => void;

/** Close codes after which the stream follows the preview with a current token. */
const followedCodes = new Set<number>([closeCodes.tokenRotated, closeCodes.previewRestarted]);

/**
 * The preview's live stream over WebSocket. It reconnects with exponential backoff when the
 * connection drops and resumes after the cursor of the last line it handed out, so each line
 * arrives once: none missed (the service replays everything after the cursor) and none twice
 * (lines at or before the cursor are dropped).
 */
export class PreviewLogStream {
  private socket: WebSocketLike | undefined;
  private url: string;
  /** The `closing` message of the current connection, if the service sent one. */
  private closing: ClosingMessage | undefined;
  private token: string | undefined;
  private cursor: string | undefined;
  private filters: LogFilters;
  private subscribed = true;
  private attempt = 0;
  private currentState: StreamState = 'connecting';
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private lastHeardAt = 0;
  private readonly listeners = new Map<keyof StreamEvents, Set<Listener>>();
  private readonly WebSocketImpl: WebSocketConstructor;
  /** Settles when the stream ends; resolves with the reason. */
  readonly ended: Promise<string>;
  private resolveEnded!: (reason: string) => void;

  constructor(private readonly options: PreviewLogStreamOptions) {
    const implementation =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!implementation) {
      throw new Error(
        'No WebSocket implementation: pass one as `WebSocket` (e.g. the `ws` package on Node 20).',
      );
    }
    this.WebSocketImpl = implementation;
    this.url = options.url;
    this.filters = options.filters ?? {};
    this.cursor = options.after;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    queueMicrotask(() => void this.open());
  }

  /** The cursor of the last line handed out: where a new stream would resume. */
  get lastCursor(): string | undefined {
    return this.cursor;
  }

  get state(): StreamState {
    return this.currentState;
  }

  private isEnded(): boolean {
    return this.currentState === 'ended';
  }

  on<E extends keyof StreamEvents>(event: E, listener: StreamEvents[E]): () => void {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    this.listeners.set(event, set);
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** Replaces the log filters (a `subscribe` replaces, it does not add); kept across reconnections. */
  subscribe(filters: LogFilters): void {
    this.filters = filters;
    this.subscribed = true;
    this.send({ action: 'subscribe', filters });
  }

  /** No more log lines; status, health and metrics go on. */
  unsubscribe(): void {
    this.subscribed = false;
    this.send({ action: 'unsubscribe' });
  }

  close(): void {
    this.end('closed by the client');
  }

  private emit<E extends keyof StreamEvents>(event: E, ...args: Parameters<StreamEvents[E]>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (...a: unknown[]) => void)(...args);
  }

  private setState(state: StreamState, detail: { delayMs?: number; reason?: string } = {}): void {
    this.currentState = state;
    this.emit('state', state, { attempt: this.attempt, ...detail });
  }

  private send(message: unknown): void {
    if (this.currentState === 'open') this.socket?.send(JSON.stringify(message));
  }

  private async connectUrl(): Promise<string> {
    const source = this.options.previewToken;
    this.token ??= typeof source === 'string' ? source : await source();
    const url = new URL(this.url);
    url.searchParams.set('token', this.token);
    if (this.filters.level) url.searchParams.set('level', this.filters.level);
    if (this.filters.source?.length) url.searchParams.set('source', this.filters.source.join(','));
    if (this.filters.search) url.searchParams.set('search', this.filters.search);
    if (this.cursor !== undefined) url.searchParams.set('after', this.cursor);
    else if (this.options.buffer) url.searchParams.set('buffer', String(this.options.buffer));
    return url.toString();
  }

  private async open(): Promise<void> {
    if (this.currentState === 'ended') return;
    let url: string;
    try {
      url = await this.connectUrl();
    } catch (error) {
      this.scheduleReconnect(`no preview token: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    // The stream may have been closed while the token was being fetched.
    if (this.isEnded()) return;
    let opened = false;
    const socket = new this.WebSocketImpl(url);
    this.socket = socket;
    this.closing = undefined;
    socket.onopen = (() => {
      opened = true;
      this.lastHeardAt = Date.now();
      this.setState('open');
      if (!this.subscribed) this.send({ action: 'unsubscribe' });
      this.startHeartbeat(socket);
    }) as never;
    socket.onmessage = ((event: { data: unknown }) => {
      this.lastHeardAt = Date.now();
      // Something arrived: the connection works, so the next drop starts the backoff afresh.
      this.attempt = 0;
      for (const line of textOf(event.data).split('\n')) {
        if (line.trim() !== '') this.deliver(JSON.parse(line) as LiveMessage);
      }
    }) as never;
    socket.onerror = (() => {
      // A close event follows every error; reconnection is decided there.
    }) as never;
    socket.onclose = ((event: { code: number; reason: string }) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      // A refused handshake does not say why (browsers hide the status): the token may have been
      // rotated while the stream was away, e.g. by a recovery when the service restarted. A token
      // that can be asked for again is; one that cannot is tried again as it is.
      if (!opened && typeof this.options.previewToken !== 'string') this.token = undefined;
      this.closed(event.code, event.reason);
    }) as never;
  }

  private deliver(message: LiveMessage): void {
    if (message.type === 'log') {
      if (this.cursor !== undefined && compareCursors(message.cursor, this.cursor) <= 0) return;
      this.cursor = message.cursor;
    }
    switch (message.type) {
      case 'log':
        this.emit('log', message);
        break;
      case 'status':
        this.emit('status', message);
        break;
      case 'closing':
        this.closing = message;
        this.emit('closing', message);
        break;
      case 'health':
        this.emit('health', message);
        break;
      case 'metric':
        this.emit('metric', message);
        break;
      case 'warning':
        this.emit('warning', message);
        break;
      case 'truncated':
        this.emit('truncated', message);
        break;
      case 'error':
        if (message.error.code === 'unauthorized') this.token = undefined;
        this.emit('error', message);
        break;
      default:
        break;
    }
    this.emit('message', message);
  }

  private closed(code: number, reason: string): void {
    this.stopHeartbeat();
    if (this.currentState === 'ended') return;
    // In AWS the socket closes with 1000 or 1001: the `closing` message has the service's code.
    const closing = this.closing;
    const serviceCode = closing?.code ?? code;
    const said = `${serviceCode}${closing ? `: ${closing.reason}` : reason ? `: ${reason}` : ''}`;
    // The service closing with a code of its own (4000-4999) is final unless it points to where
    // the preview goes on and a new token can be asked for; 4429 (too many messages) asks to slow down.
    const byService = serviceCode >= 4000 && serviceCode < 5000 && serviceCode !== 4429;
    if (byService) {
      const follows = closing === undefined || followedCodes.has(serviceCode);
      if (!follows || typeof this.options.previewToken === 'string') {
        this.end(`closed by the service (${said})`);
        return;
      }
      this.token = undefined;
      if (closing?.wsUrl) this.url = closing.wsUrl;
    }
    this.scheduleReconnect(`connection closed (${said})`);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    const maxAttempts = this.options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
    if (this.attempt > maxAttempts) {
      this.end(`gave up after ${maxAttempts} attempts: ${reason}`);
      return;
    }
    const initial = this.options.reconnect?.initialDelayMs ?? 250;
    const max = this.options.reconnect?.maxDelayMs ?? 10_000;
    const ceiling = Math.min(max, initial * 2 ** (this.attempt - 1));
    // Jitter spreads the reconnections of many clients after the service comes back.
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.setState('reconnecting', { delayMs, reason });
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.setState('connecting');
      void this.open();
    }, delayMs);
  }

  private startHeartbeat(socket: WebSocketLike): void {
    const interval = this.options.heartbeatMs ?? 30_000;
    if (interval <= 0) return;
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeardAt > 2 * interval) {
        // Silent too long (a half-open connection): give it up without waiting for its close.
        this.socket = undefined;
        socket.close();
        this.closed(1006, 'no answer to pings');
        return;
      }
      this.send({ action: 'ping' });
    }, interval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private end(reason: string): void {
    if (this.currentState === 'ended') return;
    this.stopHeartbeat();
    if (this.retry) clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = undefined;
    this.setState('ended', { reason });
    socket?.close(1000, 'done');
    this.emit('end', reason);
    this.resolveEnded(reason);
  }
}

const decoder = new TextDecoder();

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data))
    return decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return String(data);
}
