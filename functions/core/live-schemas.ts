import { z } from 'zod';
import {
  checkStateSchema,
  healthStateSchema,
  healthViewSchema,
  logLevels,
  logSourceListSchema,
  logSources,
} from './api-schemas.js';
import { generationIdSchema } from './generation.js';
import { previewStatuses } from './lifecycle.js';
import { isLogCursor } from './log-cursor.js';

/** What clients of the live stream send: the connect query, then actions as JSON messages. */

const filterShape = {
  level: z.enum(logLevels).optional(),
  source: logSourceListSchema.optional(),
  search: z.string().min(1).max(200).optional(),
};

/**
 * The largest message a client may send: API Gateway's WebSocket frame (32 KB). Every action
 * fits in a fraction of it; the local gateway closes a connection that sends more (1009), the
 * message routes refuse it before parsing.
 */
export const maxClientMessageBytes = 32 * 1024;

/** Replays are bounded; beyond them, GET …/preview/logs pages through everything. */
const maxReplayBuffer = 1000;

export const connectQuerySchema = z
  .object({
    // Checked by the handshake itself, so that a missing token is a 401 like a wrong one.
    token: z.string().max(512).optional(),
    /** In the AWS URL; locally the gateway takes it from the path. */
    generationId: generationIdSchema.optional(),
    ...filterShape,
    buffer: z.coerce.number().int().min(0).max(maxReplayBuffer).default(0),
    after: z.string().refine(isLogCursor, 'must be the cursor of a line this service sent').optional(),
  })
  .strict();
export type ConnectQuery = z.infer<typeof connectQuerySchema>;

export const subscribeMessageSchema = z
  .object({ action: z.literal('subscribe'), filters: z.object(filterShape).strict().default({}) })
  .strict();

export const unsubscribeMessageSchema = z.object({ action: z.literal('unsubscribe') }).strict();

export const pingMessageSchema = z.object({ action: z.literal('ping') }).strict();

/**
 * What the service sends: one JSON object per line of a WebSocket message. The types in
 * live-messages.ts are inferred from these schemas, and the AsyncAPI document is generated from them.
 */

const timestamp = z.iso.datetime({ offset: true });

export const logMessageSchema = z
  .object({
    type: z.literal('log'),
    timestamp,
    level: z.enum(logLevels),
    source: z.enum(logSources),
    message: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    cursor: z.string().describe("The line's place in the preview's log: reconnect with `after=<cursor>`."),
  })
  .describe('A log line of the preview, redacted.');

export const metricMessageSchema = z
  .object({
    type: z.literal('metric'),
    timestamp,
    metric: z.literal('resource_usage'),
    data: z.object({
      memory: z.number().describe('MB in use.'),
      cpu: z.number().describe('Cores in use.'),
      requests_per_minute: z.number().int(),
      error_rate: z.number().describe("Percent of the last minute's requests that failed."),
    }),
  })
  .describe('A resource sample, with the requests of the last full minute.');

export const healthMessageSchema = z
  .object({
    type: z.literal('health'),
    timestamp,
    status: healthStateSchema.exclude(['unknown']).describe('The overall health, as REST `health.status`.'),
    changes: z
      .array(
        z.object({
          name: z.string(),
          status: checkStateSchema.describe('As REST `health.checks[].status`.'),
          message: z.string(),
          usage: z.string().optional(),
        }),
      )
      .describe('The checks whose result changed since the previous check (all of them the first time).'),
  })
  .describe('A health check whose outcome changed.');

export const statusMessageSchema = z
  .object({
    type: z.literal('status'),
    timestamp,
    previewId: z.string(),
    status: z.enum(previewStatuses),
    statusReason: z.string().nullable(),
    expiresAt: timestamp.nullable(),
    expiresInSeconds: z
      .number()
      .int()
      .optional()
      .describe('Set when the session is about to end: the warning before expiry.'),
    health: healthViewSchema.describe('As REST `health` in GET …/preview/status.'),
  })
  .describe(
    "The preview's status and health: first on every connection (the snapshot), then on every change.",
  );

export const warningMessageSchema = z
  .object({
    type: z.literal('warning'),
    timestamp,
    warning: z.literal('storage'),
    message: z.string(),
    data: z.object({ used: z.string(), allocated: z.string(), percent: z.number() }),
  })
  .describe('Something to act on before the service does: the storage is filling up.');

/** The active filters, complete: `null` where nothing is filtered. */
const activeFiltersSchema = z.object({
  level: z.enum(logLevels),
  source: z.array(z.enum(logSources)).nullable(),
  search: z.string().nullable(),
});

export const subscribedMessageSchema = z
  .object({
    type: z.literal('subscribed'),
    filters: activeFiltersSchema,
  })
  .describe(
    'The answer to `subscribe`: the filters now active. They replace the previous ones, whether set on connect or by an earlier `subscribe`.',
  );

export const unsubscribedMessageSchema = z
  .object({ type: z.literal('unsubscribed') })
  .describe('The answer to `unsubscribe`: no more log lines; status, health, metrics and warnings go on.');

export const pongMessageSchema = z
  .object({ type: z.literal('pong'), timestamp })
  .describe('The answer to `ping`.');

export const truncatedMessageSchema = z
  .object({
    type: z.literal('truncated'),
    replayed: z.number().int(),
    message: z.string(),
    after: z.string().optional(),
    nextToken: z.string().optional(),
  })
  .describe('A replay stopped at its cap: GET …/preview/logs?nextToken=… pages through the rest.');

export const errorMessageSchema = z
  .object({
    type: z.literal('error'),
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z
        .object({ fields: z.array(z.object({ field: z.string(), message: z.string() })).optional() })
        .loose()
        .optional()
        .describe("Invalid fields under `fields`, the error's other named facts beside it."),
    }),
  })
  .describe("What was wrong with the client's message, in the service's error shape.");

export const closingMessageSchema = z
  .object({
    type: z.literal('closing'),
    code: z.number().int().min(4000).max(4999).describe('The close code (see the close codes).'),
    reason: z.string().max(123).describe('Why, as the close frame says it.'),
    previewId: z.string().optional().describe('The preview to follow: the new one after a restart.'),
    wsUrl: z
      .string()
      .optional()
      .describe(
        'Where to connect again, without a token: the token is never sent here, get a current one with POST …/preview/token.',
      ),
  })
  .describe('The last message before the service closes the connection, with the close code.');

export const serverMessageSchemas = {
  log: logMessageSchema,
  metric: metricMessageSchema,
  health: healthMessageSchema,
  status: statusMessageSchema,
  warning: warningMessageSchema,
  subscribed: subscribedMessageSchema,
  unsubscribed: unsubscribedMessageSchema,
  pong: pongMessageSchema,
  truncated: truncatedMessageSchema,
  error: errorMessageSchema,
  closing: closingMessageSchema,
} as const;

export const serverMessageSchema = z.discriminatedUnion('type', [
  logMessageSchema,
  metricMessageSchema,
  healthMessageSchema,
  statusMessageSchema,
  warningMessageSchema,
  subscribedMessageSchema,
  unsubscribedMessageSchema,
  pongMessageSchema,
  truncatedMessageSchema,
  errorMessageSchema,
  closingMessageSchema,
]);
