/**
 * A mergeable quantile sketch (the DDSketch idea): values fall into logarithmic buckets whose
 * width is a fixed share of their value, so any quantile is known to within `relativeAccuracy`,
 * and sketches of different minutes merge by adding bucket counts.
 */
export const relativeAccuracy = 0.01;
const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
const logGamma = Math.log(gamma);
/** Values at or below this (ms) share the lowest bucket. */
const minValue = 0.001;

export type SketchBuckets = Readonly<Record<number, number>>;

export function bucketOf(value: number): number {
  return Math.ceil(Math.log(Math.max(value, minValue)) / logGamma);
}

/** The representative value of a bucket: within `relativeAccuracy` of everything in it. */
export function bucketValue(index: number): number {
  return (2 * gamma ** index) / (gamma + 1);
}

export function mergeBuckets(sketches: readonly SketchBuckets[]): Record<number, number> {
  const merged: Record<number, number> = {};
  for (const sketch of sketches) {
    for (const [index, count] of Object.entries(sketch))
      merged[Number(index)] = (merged[Number(index)] ?? 0) + count;
  }
  return merged;
}

/** The q-quantile (0..1) of the values in the buckets, or undefined when there are none. */
export function quantile(buckets: SketchBuckets, q: number): number | undefined {
  const entries = Object.entries(buckets)
    .map(([index, count]) => [Number(index), count] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = q * (total - 1);
  let seen = 0;
  for (const [index, count] of entries) {
    seen += count;
    if (seen > rank) return bucketValue(index);
  }
  return bucketValue(entries[entries.length - 1]![0]);
}
