import type { LaunchStarter } from '#core/ports.js';
import { eventFunctions } from '#handlers/registry.js';

/** Runs one launch: the start-preview handler, as the asynchronous invocation would. */
type LaunchRun = (previewId: string) => Promise<void>;

const startPreview: LaunchRun = async (previewId) => {
  const { handler } = await eventFunctions['start-preview'].module.load();
  await handler({ previewId });
};

/**
 * Starts launches the way the launch route's asynchronous Lambda invocation does in AWS: the
 * start-preview handler runs with the same event, outside the request that asked for it.
 *
 * Unlike Lambda and Fargate, every launch here shares one machine: at most `concurrency` run at
 * once, the others wait their turn in arrival order (their previews stay `requested`). A hundred
 * apps starting together on two cores would each miss its health check's deadline. A launch still
 * running after `slotTimeoutMs` (the launch timeout: the sweep has failed its preview by then)
 * gives up its place, so one that hangs cannot hold it for good.
 */
export class LocalLaunchStarter implements LaunchStarter {
  private readonly inFlight = new Set<Promise<void>>();
  /** Launches holding a place: running, and not yet past `slotTimeoutMs`. */
  private holding = 0;
  /** Previews in arrival order: a sweep that hands over a launch still waiting adds nothing. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly concurrency = Number.POSITIVE_INFINITY,
    private readonly slotTimeoutMs = Number.POSITIVE_INFINITY,
    private readonly run: LaunchRun = startPreview,
  ) {}

  async start(preview: { previewId: string }): Promise<void> {
    this.waiting.add(preview.previewId);
    this.startWaiting();
  }

  /**
   * Waits for the launches in progress, e.g. before the runtime stops. Those still waiting are
   * dropped: their previews stay `requested`, and the next start's sweep hands them to a launcher.
   */
  async drain(): Promise<void> {
    this.waiting.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private startWaiting(): void {
    while (this.holding < this.concurrency) {
      const [previewId] = this.waiting;
      if (previewId === undefined) return;
      this.waiting.delete(previewId);
      this.holding += 1;
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        clearTimeout(timer);
        this.holding -= 1;
        this.startWaiting();
      };
      const timer = Number.isFinite(this.slotTimeoutMs) ? setTimeout(release, this.slotTimeoutMs) : undefined;
      timer?.unref();
      const run = this.run(previewId)
        .catch((error: unknown) => console.error(`start-preview ${previewId} failed:`, error))
        .finally(() => {
          this.inFlight.delete(run);
          release();
        });
      this.inFlight.add(run);
    }
  }
}
