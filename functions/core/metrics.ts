import { bucketOf, mergeBuckets, type SketchBuckets } from './quantile-sketch.js';

/** What the proxy learns from one request to a preview's app. */
export interface RequestSample {
  readonly at: Date;
  readonly statusCode: number | undefined;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** What kind of answer it was when not a success: `4xx`, `5xx`, `timeout`, `unreachable`. */
  readonly errorType?: string;
}

/** Requests of one minute (or a merge of several). */
export interface RequestBucket {
  readonly minute: string;
  readonly requests: number;
  readonly errors: number;
  readonly durationSumMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly errorTypes: Readonly<Record<string, number>>;
  readonly sketch: SketchBuckets;
}

/** One reading of the app container's resources. */
export interface ResourceSample {
  readonly at: string;
  readonly memoryUsedBytes: number;
  readonly memoryLimitBytes: number;
  readonly cpuCores: number;
  readonly networkRxBytes: number;
  readonly networkTxBytes: number;
  /** Bytes on the task's volumes, where the runtime measures them. */
  readonly storageUsedBytes?: number;
}

export function errorTypeOf(statusCode: number | undefined, failure?: string): string | undefined {
  if (failure) return failure;
  if (statusCode === undefined) return 'unreachable';
  if (statusCode >= 500) return '5xx';
  if (statusCode >= 400) return '4xx';
  return undefined;
}

/** Client errors are the app answering as designed; they are counted by type, not as errors. */
export function isError(errorType: string | undefined): boolean {
  return errorType !== undefined && errorType !== '4xx';
}

export function minuteOf(date: Date): string {
  return `${date.toISOString().slice(0, 16)}:00Z`;
}

export interface RequestTotals {
  readonly requests: number;
  readonly errors: number;
  readonly durationSumMs: number;
  readonly errorTypes: Readonly<Record<string, number>>;
  readonly sketch: SketchBuckets;
}

export function totalRequests(buckets: readonly RequestBucket[]): RequestTotals {
  const errorTypes: Record<string, number> = {};
  for (const bucket of buckets) {
    for (const [type, count] of Object.entries(bucket.errorTypes))
      errorTypes[type] = (errorTypes[type] ?? 0) + count;
  }
  return {
    requests: buckets.reduce((sum, b) => sum + b.requests, 0),
    errors: buckets.reduce((sum, b) => sum + b.errors, 0),
    durationSumMs: buckets.reduce((sum, b) => sum + b.durationSumMs, 0),
    errorTypes,
    sketch: mergeBuckets(buckets.map((b) => b.sketch)),
  };
}

/** Samples of one preview as per-minute buckets, ready to be added to what is stored. */
export function bucketsOf(samples: readonly RequestSample[]): RequestBucket[] {
  const byMinute = new Map<string, RequestSample[]>();
  for (const sample of samples) {
    const minute = minuteOf(sample.at);
    byMinute.set(minute, [...(byMinute.get(minute) ?? []), sample]);
  }
  return [...byMinute].map(([minute, group]) => {
    const errorTypes: Record<string, number> = {};
    const sketch: Record<number, number> = {};
    let errors = 0;
    for (const sample of group) {
      const type = sample.errorType ?? errorTypeOf(sample.statusCode);
      if (type) errorTypes[type] = (errorTypes[type] ?? 0) + 1;
      if (isError(type)) errors += 1;
      const bucket = bucketOf(sample.durationMs);
      sketch[bucket] = (sketch[bucket] ?? 0) + 1;
    }
    return {
      minute,
      requests: group.length,
      errors,
      durationSumMs: group.reduce((sum, s) => sum + s.durationMs, 0),
      bytesIn: group.reduce((sum, s) => sum + s.bytesIn, 0),
      bytesOut: group.reduce((sum, s) => sum + s.bytesOut, 0),
      errorTypes,
      sketch,
    };
  });
}
