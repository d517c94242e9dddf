import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
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

/** One line per value of `dimension`, whatever values occur (the `[service, stage, <dimension>]` set). */
function serviceMetricBy(
  key: ServiceMetricKey,
  dimension: string,
  stage: string,
  period: Duration,
): MathExpression {
  const { namespace, serviceDimension, stageDimension } = serviceMetrics;
  const { name } = serviceMetrics.metrics[key];
  return new MathExpression({
    expression:
      `SEARCH('{${namespace},${dimension},${serviceDimension.name},${stageDimension}} ` +
      `MetricName="${name}" ${serviceDimension.name}="${serviceDimension.value}" ` +
      `${stageDimension}="${stage}"', 'Sum', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });
}

/** One line per failure reason, whatever reasons occur. */
export function launchFailuresByReason(stage: string, period = Duration.minutes(5)): MathExpression {
  return serviceMetricBy('launchFailures', serviceMetrics.reasonDimension, stage, period);
}

/** The service's own 5xx, one line per error code. */
export function serverErrorsByCode(stage: string, period = Duration.minutes(5)): MathExpression {
  return serviceMetricBy('serverErrors', serviceMetrics.codeDimension, stage, period);
}

/**
 * The authorizer's errors that are not denials: a denial is thrown too (how a TOKEN authorizer answers
 * 401), so Lambda counts it as an error; what remains is the service's fault (keys unreachable, a crash,
 * a timeout), which API Gateway answers with 500.
 */
export function authorizerFaults(
  authorizer: IFunction,
  stage: string,
  period = Duration.minutes(5),
): MathExpression {
  return new MathExpression({
    expression:
      'IF(FILL(authErrors, 0) > FILL(authDenials, 0), FILL(authErrors, 0) - FILL(authDenials, 0), 0)',
    usingMetrics: {
      authErrors: authorizer.metricErrors({ period, statistic: 'Sum' }),
      authDenials: serviceMetric('authorizerDenials', stage, 'Sum', period),
    },
    label: 'authorizer faults (errors that are not denials)',
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
