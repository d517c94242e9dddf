import { z } from 'zod';
import type { TaskStateChangeEvent } from '#core/task-state-change.js';
import { logger } from '../logger.js';
import { services } from '../services.js';
import { lambdaHandler } from '../lambda-handler.js';

/** The part of an ECS "Task State Change" event this handler needs: whose task it is. */
const taskStateChange = z.object({
  'detail-type': z.literal('ECS Task State Change'),
  detail: z.object({ taskArn: z.string(), lastStatus: z.string(), startedBy: z.string().optional() }),
});

/**
 * EventBridge → ECS task state changes of the preview cluster (locally: Docker events in the same
 * shape). The event says which preview changed; the runtime's own description is the truth.
 */
export const handler = lambdaHandler(async (event: TaskStateChangeEvent): Promise<void> => {
  const parsed = taskStateChange.safeParse(event);
  const previewId = parsed.success ? parsed.data.detail.startedBy : undefined;
  if (!previewId?.startsWith('preview_')) {
    logger.warn('ignoring a task state change that is not a preview task', { id: event.id });
    return;
  }
  const launcher = services().launcher;
  if (!launcher) throw new Error('No preview runtime is configured for this function.');
  await launcher.refresh(previewId);
});
