import type { ScheduledEvent } from 'aws-lambda';
import type { SweepResult } from '../../core/services/preview-sweeper.js';
import { logger } from '../logger.js';
import { services } from '../services.js';

/** Scheduled: expiry, hung launches, orphaned tasks and vanished tasks. */
export const handler = async (_event: ScheduledEvent): Promise<SweepResult> => {
  const sweeper = services().sweeper;
  if (!sweeper) throw new Error('No preview runtime is configured for this function.');
  const result = await sweeper.sweep();
  if (Object.values(result).some((count) => count > 0)) logger.info('sweep', { ...result });
  return result;
};
