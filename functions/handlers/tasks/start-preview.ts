import { z } from 'zod';
import { logger } from '../logger.js';
import { services } from '../services.js';
import { lambdaHandler } from '../lambda-handler.js';

const startPreviewEvent = z.object({ previewId: z.string().min(1) });
export type StartPreviewEvent = z.infer<typeof startPreviewEvent>;

/**
 * The asynchronous part of a launch, invoked (asynchronously) by the launch route: build the
 * image, start the task, follow it to healthy. Failures are recorded on the preview itself.
 */
export const handler = lambdaHandler(async (event: StartPreviewEvent): Promise<void> => {
  const { previewId } = startPreviewEvent.parse(event);
  const launcher = services().launcher;
  if (!launcher) throw new Error('No preview runtime is configured for this function.');
  logger.info('starting preview', { previewId });
  await launcher.start(previewId);
});
