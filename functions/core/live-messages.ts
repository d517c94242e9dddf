import type { ErrorBody } from './errors.js';
import type { PreviewStatus } from './lifecycle.js';
import type { LogEntry } from './log-entry.js';
import type { RequestBucket, ResourceSample } from './metrics.js';
import type { PreviewHealth, PreviewRecord } from './preview.js';
import { formatBytes, type StorageUsage } from './storage-allowance.js';

/** Server → client messages of the live stream (docs/api.md, WebSocket), plus the replies to client actions. */

export type LogMessage = { readonly type: 'log' } & LogEntry;

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

export type HealthState = PreviewHealth['status'];

export interface HealthMessage {
  readonly type: 'health';
  readonly timestamp: string;
  readonly status: HealthState;
  readonly changes: readonly {
    readonly name: string;
    readonly status: HealthState;
    readonly message: string;
  }[];
}

export interface StatusMessage {
  readonly type: 'status';
  readonly timestamp: string;
  readonly status: PreviewStatus;
  readonly statusReason: string | null;
  readonly expiresAt: string | null;
  /** Set when the session is about to end. */
  readonly expiresInSeconds?: number;
}

/** Something the user should act on before the service does (a storage warning). */
export interface WarningMessage {
  readonly type: 'warning';
  readonly timestamp: string;
  readonly warning: 'storage';
  readonly message: string;
  readonly data: { readonly used: string; readonly allocated: string; readonly percent: number };
}

export type ReplyMessage =
  | { readonly type: 'subscribed'; readonly filters: Record<string, unknown> }
  | { readonly type: 'unsubscribed' }
  | { readonly type: 'pong'; readonly timestamp: string }
  | {
      /** A replay stopped at its cap: the rest is paged from GET …/preview/logs with `nextToken`. */
      readonly type: 'truncated';
      readonly replayed: number;
      readonly message: string;
      readonly after?: string;
      readonly nextToken?: string;
    }
  | ({ readonly type: 'error' } & ErrorBody);

export type ServerMessage =
  LogMessage | MetricMessage | HealthMessage | StatusMessage | WarningMessage | ReplyMessage;

export function logMessage(entry: LogEntry): LogMessage {
  return { type: 'log', ...entry };
}

const mb = 1024 * 1024;

/** The storage warning: past the warning share of the tier's allowance, the preview stops at all of it. */
export function storageWarningMessage(at: string, usage: Omit<StorageUsage, 'at'>): WarningMessage {
  const used = formatBytes(usage.usedBytes);
  const allocated = `${usage.storageGb}GB`;
  return {
    type: 'warning',
    timestamp: at,
    warning: 'storage',
    message: `Storage is ${usage.percent}% full (${used} of ${allocated}); the preview stops when it is full.`,
    data: { used, allocated, percent: usage.percent },
  };
}

export function metricMessage(sample: ResourceSample, lastMinute: RequestBucket | undefined): MetricMessage {
  const requests = lastMinute?.requests ?? 0;
  return {
    type: 'metric',
    timestamp: sample.at,
    metric: 'resource_usage',
    data: {
      memory: Math.round(sample.memoryUsedBytes / mb),
      cpu: Math.round(sample.cpuCores * 1000) / 1000,
      requests_per_minute: requests,
      error_rate: requests > 0 ? Math.round(((lastMinute?.errors ?? 0) / requests) * 10000) / 100 : 0,
    },
  };
}

const checkStates: Record<PreviewHealth['checks'][number]['status'], HealthState> = {
  passing: 'healthy',
  warning: 'degraded',
  failing: 'unhealthy',
};

/** The checks whose result differs from the previous check (all of them the first time). */
export function healthMessage(health: PreviewHealth, previous: PreviewHealth | undefined): HealthMessage {
  const before = new Map(previous?.checks.map((c) => [c.name, c]));
  return {
    type: 'health',
    timestamp: health.checkedAt,
    status: health.status,
    changes: health.checks
      .filter((c) => before.get(c.name)?.status !== c.status || before.get(c.name)?.message !== c.message)
      .map((c) => ({ name: c.name, status: checkStates[c.status], message: c.message ?? c.status })),
  };
}

export function statusMessage(record: PreviewRecord, at: Date, expiresInSeconds?: number): StatusMessage {
  return {
    type: 'status',
    timestamp: at.toISOString(),
    status: record.status,
    statusReason: record.statusReason ?? null,
    expiresAt: record.expiresAt ?? null,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  };
}

/**
 * API Gateway's WebSocket limits: a message of at most 128 KB, sent in frames of at most 32 KB.
 * Messages are kept to one frame where they can be.
 */
export const messageLimits = { frameBytes: 32 * 1024, messageBytes: 128 * 1024 } as const;

/** A log line too large for one message keeps its head and says so. */
function fitted(message: ServerMessage, json: string, maxBytes: number): string {
  if (Buffer.byteLength(json) <= maxBytes || message.type !== 'log') return json;
  const keep = Math.max(0, maxBytes - 1024);
  const head = Buffer.from(message.message)
    .subarray(0, keep)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return JSON.stringify({
    ...message,
    message: head,
    metadata: { truncated: true, originalBytes: Buffer.byteLength(message.message) },
  });
}

/**
 * Server messages packed into WebSocket messages: newline-delimited JSON, one server message per
 * line (JSON text never contains a raw newline), as many lines per message as fit in a frame.
 */
export function packMessages(messages: readonly ServerMessage[], limits = messageLimits): string[] {
  const packed: string[] = [];
  let current = '';
  for (const message of messages) {
    const json = fitted(message, JSON.stringify(message), limits.messageBytes);
    const joined = current === '' ? json : `${current}\n${json}`;
    if (Buffer.byteLength(joined) <= limits.frameBytes) {
      current = joined;
      continue;
    }
    if (current !== '') packed.push(current);
    current = json;
  }
  if (current !== '') packed.push(current);
  return packed;
}
