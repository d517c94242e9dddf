import type { LaunchStarter } from '#core/ports.js';
import { eventFunctions } from '#handlers/registry.js';

/**
 * Starts launches the way the launch route's asynchronous Lambda invocation does in AWS: the
 * start-preview handler runs with the same event, outside the request that asked for it.
 */
export class LocalLaunchStarter implements LaunchStarter {
  private readonly inFlight = new Set<Promise<void>>();

  async start(preview: { previewId: string }): Promise<void> {
    const run = eventFunctions['start-preview'].module
      .load()
      .then(({ handler }) => handler({ previewId: preview.previewId }))
      .catch((error: unknown) => console.error(`start-preview ${preview.previewId} failed:`, error))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Waits for the launches in progress, e.g. before the runtime stops. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
