import { bucketsOf, type RequestSample } from './metrics.js';
import type { MetricsStore } from './ports.js';

/**
 * Collects the proxy's request samples and adds them to the store per preview and minute at most
 * once per interval, so a proxied request waits for no metric write of its own. What is pending
 * when the process ends is lost: at most one interval of counts.
 */
export class RequestRecorder {
  private pending = new Map<string, RequestSample[]>();
  private oldestPendingAt: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: Pick<MetricsStore, 'addRequests'>,
    private readonly flushAfterMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async record(previewId: string, sample: RequestSample): Promise<void> {
    this.pending.set(previewId, [...(this.pending.get(previewId) ?? []), sample]);
    this.oldestPendingAt ??= Date.now();
    // A frozen Lambda fires no timer: the next request writes what is overdue.
    if (Date.now() - this.oldestPendingAt >= this.flushAfterMs) return this.flush();
    this.timer ??= setTimeout(() => void this.flush().catch(this.onError), this.flushAfterMs);
    this.timer.unref?.();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.oldestPendingAt = undefined;
    const batches = [...this.pending];
    this.pending = new Map();
    await Promise.all(
      batches.flatMap(([previewId, samples]) =>
        bucketsOf(samples).map((b) => this.store.addRequests(previewId, b)),
      ),
    );
  }
}
