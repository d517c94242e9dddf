import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  TextWidget,
  type GraphWidgetProps,
  type IAlarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DataTables } from './data-tables.js';
import {
  authorizerFaults,
  launchFailuresByReason,
  serverErrorsByCode,
  serviceMetric,
  tableThrottles,
} from './operations-metrics.js';
import type { ServiceFunction } from './service-function.js';

export interface OperationsDashboardProps {
  readonly stage: string;
  /** Every function of the stage, by name. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;
  readonly authorizer: ServiceFunction;
  readonly tables: DataTables;
  readonly restApi: RestApi;
  readonly failedEvents: IQueue;
  readonly alarms: readonly IAlarm[];
  /** The Fargate cluster of the preview tasks (Container Insights, enhanced). */
  readonly clusterName: string;
}

const width = 8;
const height = 6;

/** The one dashboard ops open: previews first, then what they run on. */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { stage } = props;
    const period = Duration.minutes(5);
    const graph = (title: string, left: IMetric[], options: Partial<GraphWidgetProps> = {}) =>
      new GraphWidget({ title, width, height, left, ...options });
    const functions = [...props.functions];

    const rows: IWidget[][] = [
      [
        new TextWidget({
          markdown:
            `# Preview service (${stage})\n` +
            'Launches, health and logs of previews; then the functions, tables and queues behind them. ' +
            'Alarms and what to do: docs/operations.md.',
          width: 24,
          height: 2,
        }),
      ],
      [
        graph('Launches and failures, by cause', [
          serviceMetric('launches', stage, 'Sum', period),
          serviceMetric('launchFailures', stage, 'Sum', period),
          serviceMetric('serviceLaunchFailures', stage, 'Sum', period),
          serviceMetric('appLaunchFailures', stage, 'Sum', period),
        ]),
        graph('Launch duration (ms)', [
          serviceMetric('launchDuration', stage, 'p50', period),
          serviceMetric('launchDuration', stage, 'p95', period),
        ]),
        graph('Launch failures by reason', [launchFailuresByReason(stage, period)]),
      ],
      [
        graph('Active previews', [serviceMetric('activePreviews', stage, 'Maximum', period)]),
        graph('Recoveries and sweep failures', [
          serviceMetric('recoveries', stage, 'Sum', period),
          serviceMetric('sweepFailures', stage, 'Sum', period),
        ]),
        graph('Proxy latency and overhead (ms)', [
          serviceMetric('proxyLatency', stage, 'p50', period),
          serviceMetric('proxyLatency', stage, 'p95', period),
          serviceMetric('proxyOverhead', stage, 'p50', period),
          serviceMetric('proxyOverhead', stage, 'p95', period),
        ]),
      ],
      [
        graph('Log fan-out latency (ms)', [
          serviceMetric('fanOutLatency', stage, 'p50', period),
          serviceMetric('fanOutLatency', stage, 'p95', period),
          serviceMetric('fanOutLatency', stage, 'p99', period),
        ]),
        graph('REST API', [
          props.restApi.metricClientError({ period, statistic: 'Sum', label: '4xx' }),
          props.restApi.metricServerError({ period, statistic: 'Sum', label: '5xx (all)' }),
          serviceMetric('serverErrors', stage, 'Sum', period),
          serviceMetric('appServerErrors', stage, 'Sum', period),
        ]),
        graph('Failed events (queue depth)', [
          props.failedEvents.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        ]),
      ],
      [
        graph('Authorizer: denials (401) and faults', [
          serviceMetric('authorizerDenials', stage, 'Sum', period),
          authorizerFaults(props.authorizer.function, stage, period),
        ]),
        graph("The service's 5xx by code", [serverErrorsByCode(stage, period)]),
        graph('Proxied apps: 5xx', [serviceMetric('appServerErrors', stage, 'Sum', period)]),
      ],
      [
        graph('Preview tasks: ephemeral storage used (GB, per task definition)', [
          containerInsights('EphemeralStorageUtilized', props.clusterName, period),
        ]),
        graph('Preview tasks: memory used (MiB, per task definition)', [
          containerInsights('MemoryUtilized', props.clusterName, period),
        ]),
        graph('Preview tasks: CPU used (units of 1/1024 vCPU, per task definition)', [
          containerInsights('CpuUtilized', props.clusterName, period),
        ]),
      ],
      [
        graph(
          'Lambda errors',
          functions.map(([name, fn]) => fn.function.metricErrors({ period, statistic: 'Sum', label: name })),
          { width: 12 },
        ),
        graph(
          'Lambda throttles',
          functions.map(([name, fn]) =>
            fn.function.metricThrottles({ period, statistic: 'Sum', label: name }),
          ),
          { width: 12 },
        ),
      ],
      [
        graph(
          'DynamoDB throttles',
          props.tables.entries().map(
            ({ definition, table }) =>
              new MathExpression({
                expression: `FILL(${definition.name}Reads, 0) + FILL(${definition.name}Writes, 0)`,
                usingMetrics: Object.fromEntries(
                  tableThrottles(table, period).map((metric, index) => [
                    `${definition.name}${index === 0 ? 'Reads' : 'Writes'}`,
                    metric,
                  ]),
                ),
                label: definition.name,
                period,
              }),
          ),
          { width: 12 },
        ),
        new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 12, height }),
      ],
    ];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `preview-service-${stage}`,
      defaultInterval: Duration.hours(3),
      widgets: rows,
    });
  }
}

/**
 * One line per preview task definition: Container Insights measures what Fargate tasks use, ephemeral
 * storage included (their image layers and volumes), which the service itself cannot read in AWS.
 */
function containerInsights(metricName: string, clusterName: string, period: Duration): IMetric {
  return new MathExpression({
    expression: `SEARCH('{ECS/ContainerInsights,ClusterName,TaskDefinitionFamily} MetricName="${metricName}" ClusterName="${clusterName}"', 'Maximum', ${period.toSeconds()})`,
    label: '',
    period,
  });
}
