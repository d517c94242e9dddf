import type { ScheduledEvent } from 'aws-lambda';
import type { MaintenanceStopResult } from '#core/services/maintenance-stop.js';
import type { SweepResult } from '#core/services/preview-sweeper.js';
import { logger } from '../logger.js';
import { services } from '../services.js';
import { lambdaHandler } from '../lambda-handler.js';

export type SweepOutcome = SweepResult & { readonly maintenance: MaintenanceStopResult };

/**
 * Scheduled: in maintenance, every live preview is stopped first; then expiry, hung launches,
 * orphaned tasks and vanished tasks.
 */
export const handler = lambdaHandler(async (_event: ScheduledEvent): Promise<SweepOutcome> => {
  const { sweeper, maintenanceStop } = services();
  if (!sweeper || !maintenanceStop) throw new Error('No preview runtime is configured for this function.');
  const maintenance = await maintenanceStop.run();
  if (maintenance.stopped > 0 || maintenance.failed > 0) logger.info('maintenance stop', { ...maintenance });
  const result = await sweeper.sweep();
  if (Object.values(result).some((count) => count > 0)) logger.info('sweep', { ...result });
  return { ...result, maintenance };
});
