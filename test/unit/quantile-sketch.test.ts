import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, mergeBuckets, quantile, relativeAccuracy } from '#core/quantile-sketch.js';

function sketchOf(values: readonly number[]): Record<number, number> {
  const buckets: Record<number, number> = {};
  for (const value of values) buckets[bucketOf(value)] = (buckets[bucketOf(value)] ?? 0) + 1;
  return buckets;
}

function exact(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

const latency = fc.double({ min: 0.05, max: 60_000, noNaN: true });

describe('quantile sketch', () => {
  it('knows every quantile to within its relative accuracy', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 1, maxLength: 400 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99),
        (values, q) => {
          const estimate = quantile(sketchOf(values), q) as number;
          expect(Math.abs(estimate - exact(values, q)) / exact(values, q)).toBeLessThanOrEqual(
            relativeAccuracy + 1e-9,
          );
        },
      ),
    );
  });

  it('merges minutes into the same answer as one sketch of everything', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(latency, { maxLength: 100 }), { minLength: 1, maxLength: 10 }),
        (minutes) => {
          const merged = mergeBuckets(minutes.map(sketchOf));
          expect(merged).toEqual(sketchOf(minutes.flat()));
        },
      ),
    );
  });

  it('has nothing to say about no values', () => {
    expect(quantile({}, 0.95)).toBeUndefined();
  });
});
