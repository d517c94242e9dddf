import type { MetricsResponse } from '../api-schemas.js';
import type { Clock } from '../clock.js';
import { metricsWindow, requestSeries, resourceSeries } from '../metrics-series.js';
import type { MetricsStore } from '../ports.js';
import type { Identity } from '../preview.js';
import type { PreviewService } from './preview-service.js';

/** Time series of a preview's resources and requests over a window (`GET …/metrics`). */
export class PreviewMetrics {
  constructor(
    private readonly deps: {
      readonly service: PreviewService;
      readonly metrics: MetricsStore;
      readonly clock: Clock;
    },
  ) {}

  async series(
    identity: Identity,
    generationId: string,
    query: { readonly start?: string; readonly end?: string; readonly period: number },
  ): Promise<MetricsResponse> {
    const window = metricsWindow(query, this.deps.clock.now());
    const record = await this.deps.service.ownedPreview(identity, generationId);
    const range = { start: window.start, end: window.end };
    const [samples, buckets] = await Promise.all([
      this.deps.metrics.resourceSamples(record.previewId, range),
      this.deps.metrics.requestBuckets(record.previewId, range),
    ]);
    return {
      previewInstanceId: record.previewId,
      start: window.start.toISOString(),
      end: window.end.toISOString(),
      period: window.periodSeconds,
      metrics: { ...resourceSeries(samples, window), ...requestSeries(buckets, window) },
    };
  }
}
