import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';
import { serviceMetricsNamespace, type ServiceMetrics } from '#core/service-metrics.js';

/**
 * Service metrics as CloudWatch Embedded Metric Format lines in the function's log: each is
 * published at once, so nothing waits for the end of the invocation. Every metric carries the
 * `stage`, so stages sharing an account stay apart; a count split by a dimension (failures by
 * `reason`) is also published without it, as the total alarms watch. POWERTOOLS_METRICS_DISABLED
 * turns them off (the local runtime does).
 */
export function powertoolsServiceMetrics(stage: string): ServiceMetrics {
  // One emitter per dimension set, made once: building one costs far more than publishing (the
  // proxy publishes on every request). Dimension values are few (failure reasons, error codes).
  const emitters = new Map<string, Metrics>();
  const emitterOf = (dimensions: Readonly<Record<string, string>>) => {
    const key = JSON.stringify(dimensions);
    let emitter = emitters.get(key);
    if (!emitter) {
      emitter = new Metrics({
        namespace: serviceMetricsNamespace,
        serviceName: 'preview-service',
        defaultDimensions: { stage, ...dimensions },
      });
      emitters.set(key, emitter);
    }
    return emitter;
  };
  const publish = (
    name: string,
    unit: Unit,
    value: number,
    dimensions: Readonly<Record<string, string>> = {},
  ) => {
    const emitter = emitterOf(dimensions);
    emitter.addMetric(name, unit, value);
    emitter.publishStoredMetrics();
  };
  return {
    count: (name, dimensions) => {
      publish(name, MetricUnit.Count, 1, dimensions);
      if (dimensions && Object.keys(dimensions).length > 0) publish(name, MetricUnit.Count, 1);
    },
    milliseconds: (name, value) => publish(name, MetricUnit.Milliseconds, value),
    gauge: (name, value) => publish(name, MetricUnit.Count, value),
  };
}
