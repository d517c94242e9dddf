import { z } from 'zod';
import { lambdaHandler } from '../lambda-handler.js';
import { requireLogs } from '../log-services.js';
import { logger } from '../logger.js';
import { services } from '../services.js';

const replayEvent = z.object({ connectionId: z.string().min(1), previewId: z.string().min(1) });
export type ReplayEvent = z.infer<typeof replayEvent>;

/**
 * Invoked (asynchronously) by `$connect`: sends the new connection the lines it asked to see
 * again, then lets live lines through.
 */
export const handler = lambdaHandler(async (event: ReplayEvent): Promise<{ lines: number }> => {
  const { connectionId, previewId } = replayEvent.parse(event);
  const lines = await requireLogs(services().logs).live.replay(connectionId);
  logger.debug('replayed', { connectionId, previewId, lines });
  return { lines };
});
