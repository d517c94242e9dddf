/**
 * The live stream's messages (docs/api.md, "Live stream"): what the service sends on the preview's
 * WebSocket, one JSON object per line of a WebSocket message.
 */

import type { ErrorDetails } from './errors.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogSource = 'request' | 'database' | 'startup' | 'error' | 'system' | 'build';
/** The preview's overall health, as REST `health.status` says it. */
export type HealthState = 'unknown' | 'healthy' | 'degraded' | 'unhealthy';
/** One check's result, as REST `health.checks[].status` says it. */
export type CheckState = 'passing' | 'warning' | 'failing';

/** The preview's health with its checks, as in `GET …/preview/status`. */
export interface HealthView {
  readonly status: HealthState;
  readonly checks: readonly {
    readonly name: string;
    readonly status: CheckState;
    readonly lastCheck?: string;
    readonly usage?: string;
    readonly message?: string;
  }[];
}

/** A log line; `cursor` is its place in the preview's log (resume after it with `after`). */
export interface LogLine {
  readonly timestamp: string;
  readonly level: LogLevel;
  readonly source: LogSource;
  readonly message: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly cursor: string;
}

export type LogMessage = { readonly type: 'log' } & LogLine;

export interface MetricMessage {
  readonly type: 'metric';
  readonly timestamp: string;
  readonly metric: 'resource_usage';
  readonly data: {
    /** MB in use. */
    readonly memory: number;
    /** Cores in use. */
    readonly cpu: number;
    readonly requests_per_minute: number;
    /** Percent of the last minute's requests that failed. */
    readonly error_rate: number;
  };
}

export interface HealthMessage {
  readonly type: 'health';
  readonly timestamp: string;
  readonly status: HealthState;
  /** The checks whose result changed since the previous check. */
  readonly changes: readonly {
    readonly name: string;
    readonly status: CheckState;
    readonly message: string;
    readonly usage?: string;
  }[];
}

/**
 * The preview's status and health: first on every connection (the snapshot), then on every
 * change; with `expiresInSeconds`, the session is about to end.
 */
export interface StatusMessage {
  readonly type: 'status';
  readonly timestamp: string;
  readonly previewId: string;
  readonly status: string;
  readonly statusReason: string | null;
  readonly expiresAt: string | null;
  readonly expiresInSeconds?: number;
  readonly health: HealthView;
}

/**
 * The service's close codes (docs/api.md, "Close codes"). In AWS the socket itself closes with
 * 1000 or 1001: the `closing` message before it carries the code.
 */
export const closeCodes = {
  previewStopped: 4001,
  previewDeleted: 4002,
  tokenRotated: 4003,
  previewRestarted: 4004,
  previewFailed: 4005,
} as const;

/**
 * The last message before the service closes the connection. After a token rotation or a restart
 * it says where to go on (`wsUrl`, the new `previewId`); the new token is never in it: get it
 * with `POST …/preview/token` (or from the launch that restarted the preview).
 */
export interface ClosingMessage {
  readonly type: 'closing';
  readonly code: number;
  readonly reason: string;
  readonly previewId?: string;
  readonly wsUrl?: string;
}

export interface WarningMessage {
  readonly type: 'warning';
  readonly timestamp: string;
  readonly warning: 'storage';
  readonly message: string;
  readonly data: { readonly used: string; readonly allocated: string; readonly percent: number };
}

/** A replay stopped at its cap: the lines in between are paged from `GET …/preview/logs?nextToken=…`. */
export interface TruncatedMessage {
  readonly type: 'truncated';
  readonly replayed: number;
  readonly message: string;
  readonly after?: string;
  readonly nextToken?: string;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly error: { readonly code: string; readonly message: string; readonly details?: ErrorDetails };
}

/** The answer to `subscribe`: the filters now active, which replaced the previous ones. */
export interface SubscribedMessage {
  readonly type: 'subscribed';
  readonly filters: {
    readonly level: LogLevel;
    readonly source: readonly LogSource[] | null;
    readonly search: string | null;
  };
}

export type ReplyMessage =
  | SubscribedMessage
  | { readonly type: 'unsubscribed' }
  | { readonly type: 'pong'; readonly timestamp: string };

export type LiveMessage =
  | LogMessage
  | MetricMessage
  | HealthMessage
  | StatusMessage
  | WarningMessage
  | ClosingMessage
  | TruncatedMessage
  | ErrorMessage
  | ReplyMessage;

export type LiveMessageType = LiveMessage['type'];

/** Log filters, on connect or in a `subscribe` (which replaces the previous filters). */
export interface LogFilters {
  /** This level and above. */
  readonly level?: LogLevel;
  readonly source?: readonly LogSource[];
  readonly search?: string;
}

const cursorPattern = /^(\d{1,15})-(\d{1,64})$/;

function cursorParts(cursor: string): [bigint, bigint] {
  const match = cursorPattern.exec(cursor);
  if (!match) throw new Error(`Not a log cursor: ${cursor}`);
  return [BigInt(match[1] as string), BigInt(match[2] as string)];
}

/** Negative when cursor `a` comes before `b`, zero when they name the same line. */
export function compareCursors(a: string, b: string): number {
  const [timeA, idA] = cursorParts(a);
  const [timeB, idB] = cursorParts(b);
  if (timeA !== timeB) return timeA < timeB ? -1 : 1;
  return idA === idB ? 0 : idA < idB ? -1 : 1;
}

/** A cursor just before every line of `time`: resuming after it streams everything from then on. */
export function cursorBefore(time: Date): string {
  return `${time.getTime() - 1}-${'9'.repeat(64)}`;
}
