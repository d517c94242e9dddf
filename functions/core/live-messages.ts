import type { z } from 'zod';
import type { ErrorBody } from './errors.js';
import type {
  closingMessageSchema,
  healthMessageSchema,
  logMessageSchema,
  metricMessageSchema,
  pongMessageSchema,
  statusMessageSchema,
  subscribedMessageSchema,
  truncatedMessageSchema,
  unsubscribedMessageSchema,
  warningMessageSchema,
} from './live-schemas.js';
import type { LogEntry } from './log-entry.js';
import type { LogFilter } from './log-filter.js';
import type { RequestBucket, ResourceSample } from './metrics.js';
import type { PreviewHealth, PreviewRecord } from './preview.js';
import { healthView } from './preview-views.js';
import { formatBytes, type StorageUsage } from './storage-allowance.js';

/**
 * Server → client messages of the live stream (docs/api.md, WebSocket), plus the replies to client
 * actions. Their shapes are the schemas of live-schemas.ts.
 */

export type LogMessage = z.infer<typeof logMessageSchema>;
export type MetricMessage = z.infer<typeof metricMessageSchema>;
export type HealthMessage = z.infer<typeof healthMessageSchema>;
export type StatusMessage = z.infer<typeof statusMessageSchema>;
/** Something the user should act on before the service does (a storage warning). */
export type WarningMessage = z.infer<typeof warningMessageSchema>;
export type ClosingMessage = z.infer<typeof closingMessageSchema>;
export type SubscribedMessage = z.infer<typeof subscribedMessageSchema>;

export type ReplyMessage =
  | SubscribedMessage
  | z.infer<typeof unsubscribedMessageSchema>
  | z.infer<typeof pongMessageSchema>
  | z.infer<typeof truncatedMessageSchema>
  | ({ readonly type: 'error' } & ErrorBody);

export type ServerMessage =
  LogMessage | MetricMessage | HealthMessage | StatusMessage | WarningMessage | ClosingMessage | ReplyMessage;

/**
 * Why the service ends a connection, and the close code it says so with (4000-4999, the range
 * left to applications). The `closing` message before the close carries the code too: API
 * Gateway's DeleteConnection cannot set one, so in AWS the socket itself closes with 1000 or 1001.
 */
export const closeCodes = {
  /** The preview stopped: its session expired, maintenance, its storage filled, an operator. */
  preview_stopped: 4001,
  /** The owner deleted it (DELETE …/preview). */
  preview_deleted: 4002,
  /** The owner rotated its token (POST …/preview/token). */
  token_rotated: 4003,
  /** A new task replaces it (recovery) or a new preview does (launch with `restart`). */
  preview_restarted: 4004,
  /** Its launch or recovery failed. */
  preview_failed: 4005,
} as const;

export type ClosingCause = keyof typeof closeCodes;

/** How a preview's connections end: the cause, what to say, and the preview replacing this one. */
export interface LiveEnding {
  readonly cause: ClosingCause;
  /** Added to the cause's sentence, in parentheses (a stop's reason). */
  readonly detail?: string;
  /** After a restart: the new preview. */
  readonly successorPreviewId?: string;
}

const closingSentences: Record<ClosingCause, string> = {
  preview_stopped: 'The preview stopped',
  preview_deleted: 'The preview was deleted',
  token_rotated: 'The preview token was rotated; get the current one with POST …/preview/token',
  preview_restarted: 'The preview restarted with a new token; get it with POST …/preview/token',
  preview_failed: 'The preview failed',
};

/** A close frame's reason holds at most 123 bytes. */
const maxReasonBytes = 123;

function fittedReason(text: string): string {
  if (Buffer.byteLength(text) <= maxReasonBytes) return text;
  const head = Buffer.from(text)
    .subarray(0, maxReasonBytes - 3)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${head}...`;
}

/**
 * The last message a connection gets. It points to where the stream goes on (`wsUrl`, the new
 * `previewId`) but never carries a token: old sockets are exactly who must not get the new one.
 */
export function closingMessage(
  record: Pick<PreviewRecord, 'previewId'>,
  ending: LiveEnding,
  wsUrl: string,
): ClosingMessage {
  const follows = ending.cause === 'token_rotated' || ending.cause === 'preview_restarted';
  const sentence = closingSentences[ending.cause];
  return {
    type: 'closing',
    code: closeCodes[ending.cause],
    reason: fittedReason(ending.detail ? `${sentence} (${ending.detail}).` : `${sentence}.`),
    ...(follows ? { previewId: ending.successorPreviewId ?? record.previewId, wsUrl } : {}),
  };
}

/** The active filters of a connection, complete, as `subscribed` echoes them. */
export function subscribedMessage(filter: LogFilter): SubscribedMessage {
  return {
    type: 'subscribed',
    filters: {
      level: filter.level,
      source: filter.sources ? [...filter.sources] : null,
      search: filter.search ?? null,
    },
  };
}

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

/** The checks whose result differs from the previous check (all of them the first time). */
export function healthMessage(health: PreviewHealth, previous: PreviewHealth | undefined): HealthMessage {
  const before = new Map(previous?.checks.map((c) => [c.name, c]));
  return {
    type: 'health',
    timestamp: health.checkedAt,
    status: health.status,
    changes: health.checks
      .filter((c) => before.get(c.name)?.status !== c.status || before.get(c.name)?.message !== c.message)
      .map((c) => ({
        name: c.name,
        status: c.status,
        message: c.message ?? c.status,
        ...(c.usage === undefined ? {} : { usage: c.usage }),
      })),
  };
}

export function statusMessage(record: PreviewRecord, at: Date, expiresInSeconds?: number): StatusMessage {
  return {
    type: 'status',
    timestamp: at.toISOString(),
    previewId: record.previewId,
    status: record.status,
    statusReason: record.statusReason ?? null,
    expiresAt: record.expiresAt ?? null,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    health: healthView(record),
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
  let lines: string[] = [];
  // Counted as lines are added: measuring the growing text again for each line is quadratic.
  let bytes = 0;
  for (const message of messages) {
    const json = fitted(message, JSON.stringify(message), limits.messageBytes);
    const jsonBytes = Buffer.byteLength(json);
    if (lines.length > 0 && bytes + 1 + jsonBytes > limits.frameBytes) {
      packed.push(lines.join('\n'));
      lines = [];
    }
    bytes = lines.length === 0 ? jsonBytes : bytes + 1 + jsonBytes;
    lines.push(json);
  }
  if (lines.length > 0) packed.push(lines.join('\n'));
  return packed;
}
