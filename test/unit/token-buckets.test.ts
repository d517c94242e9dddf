import { describe, expect, it } from 'vitest';
import { cachedUntil } from '#local/gateway.js';
import { TokenBuckets } from '#local/token-buckets.js';

describe('token buckets', () => {
  it('lets a burst through, then one request per refill, and says when to retry', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([1, 2, 3].map(() => buckets.take('alice'))).toEqual([0, 0, 0]);
    expect(buckets.take('alice')).toBe(1);
    expect(buckets.take('bob')).toBe(0);
    now += 500;
    expect(buckets.take('alice')).toBe(0);
    expect(buckets.take('alice')).toBe(1);
    now += 10_000;
    expect([1, 2, 3, 4].map(() => buckets.take('alice'))).toEqual([0, 0, 0, 1]);
  });

  it('rounds a wait up to whole seconds', () => {
    const buckets = new TokenBuckets(0.1, 1, () => 0);
    expect(buckets.take('k')).toBe(0);
    expect(buckets.take('k')).toBe(10);
  });

  it('remembers a bounded number of keys, forgetting full buckets first', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 1, () => now, 2);
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('b')).toBe(0);
    now += 5000;
    // a and b are full again: forgetting them loses nothing.
    expect(buckets.take('c')).toBe(0);
    expect(buckets.take('c')).toBe(1);
    expect(buckets.take('d')).toBe(0);
    expect(buckets.take('d')).toBe(1);
  });
});

describe('the local authorizer cache', () => {
  it("keeps a decision for the TTL, never past the token's exp", () => {
    const now = 1_000_000_000_000;
    const exp = (seconds: number) => String(now / 1000 + seconds);
    expect(cachedUntil(now, 60, exp(3600))).toBe(now + 60_000);
    expect(cachedUntil(now, 60, exp(10))).toBe(now + 10_000);
    expect(cachedUntil(now, 0, exp(3600))).toBe(now);
    expect(cachedUntil(now, 60, undefined)).toBe(now);
  });
});
