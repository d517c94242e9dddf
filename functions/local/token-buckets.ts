/**
 * Token buckets by key: each holds up to `burst` tokens, refilled at `perSecond`; a request takes
 * one. Used by the local gateway for its per-user REST limit and per-connection message limit.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    /** Keys remembered at most; full buckets are forgotten first (they hold nothing to remember). */
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes a token for `key`: 0 when there was one, else the whole seconds until there is. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= this.maxKeys) this.forgetFull(now);
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
    // Every bucket is in use: the oldest are let go rather than growing without bound.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
