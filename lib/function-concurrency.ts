import type { StackFunction } from './stack-functions.js';
import type { ConcurrencySettings } from './stage-config.js';

/**
 * Reserved concurrency: a cap on what a function may take from the account, and a share no other
 * function can take from it.
 * - start-preview runs up to 15 minutes per launch and log-fan-out scales with log volume: capped, so a
 *   burst of either cannot starve the authorizer and the routes; launches beyond the cap wait in
 *   Lambda's queue for a free slot.
 * - a schedule runs one at a time, so a slow run never overlaps the next: the next waits in the queue.
 * Everything reserved comes out of the account's quota, whose unreserved part must stay at 100 or more.
 */
export function reservedConcurrency(entry: StackFunction, settings: ConcurrencySettings): number | undefined {
  if (entry.trigger.kind === 'schedule') return 1;
  if (entry.name === 'start-preview') return settings.startPreview;
  if (entry.name === 'log-fan-out') return settings.fanOut;
  return undefined;
}
