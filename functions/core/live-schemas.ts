import { z } from 'zod';
import { logLevels, logSourceListSchema } from './api-schemas.js';
import { generationIdSchema } from './generation.js';
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
