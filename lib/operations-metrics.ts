import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { serviceMetrics, type ServiceMetricKey } from './service-metrics.js';

/** Metrics the dashboard and the alarms share, read the way the functions emit them. */

/** A service metric of one stage (the `[service, stage]` dimension set). */
export function serviceMetric(
  key: ServiceMetricKey,
  stage: string,
  statistic: string,
  period = Duration.minutes(5),
): Metric {
  const { name } = serviceMetrics.metrics[key];
  return new Metric({
    namespace: serviceMetrics.namespace,
    metricName: name,
    dimensionsMap: {
      [serviceMetrics.serviceDimension.name]: serviceMetrics.serviceDimension.value,
      [serviceMetrics.stageDimension]: stage,
    },
    statistic,
    period,
    label: `${name} ${statistic}`,
  });
}

/** One line per failure reason, whatever reasons occur (the `[service, stage, reason]` dimension set). */
export function launchFailuresByReason(stage: string, period = Duration.minutes(5)): MathExpression {
  const { namespace, serviceDimension, stageDimension, reasonDimension } = serviceMetrics;
  const { name } = serviceMetrics.metrics.launchFailures;
  return new MathExpression({
    expression:
      `SEARCH('{${namespace},${reasonDimension},${serviceDimension.name},${stageDimension}} ` +
      `MetricName="${name}" ${serviceDimension.name}="${serviceDimension.value}" ` +
      `${stageDimension}="${stage}"', 'Sum', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });
}

/** Read and write throttle events of a table. */
export function tableThrottles(table: ITable, period = Duration.minutes(5)): Metric[] {
  return ['ReadThrottleEvents', 'WriteThrottleEvents'].map(
    (metricName) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: table.tableName },
        statistic: 'Sum',
        period,
      }),
  );
}
