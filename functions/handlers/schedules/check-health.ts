import type { ScheduledEvent } from 'aws-lambda';
import { services } from '../services.js';
import { lambdaHandler } from '../lambda-handler.js';

/** Scheduled: health-checks every serving preview whose interval has passed. */
export const handler = lambdaHandler(async (_event: ScheduledEvent): Promise<{ checked: number }> => {
  const monitor = services().monitor;
  if (!monitor) throw new Error('No preview runtime is configured for this function.');
  return { checked: await monitor.checkDue() };
});
