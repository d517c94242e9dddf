import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../logger.js';
import { services } from '../services.js';
import { lambdaHandler } from '../lambda-handler.js';

/** Scheduled: records the resource use of every serving preview where the runtime can read it. */
export const handler = lambdaHandler(async (_event: ScheduledEvent): Promise<{ sampled: number }> => {
  const sampler = services().sampler;
  if (!sampler) return { sampled: 0 };
  const sampled = await sampler.sampleAll();
  logger.debug('sampled resources', { sampled });
  return { sampled };
});
