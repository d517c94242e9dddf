import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DataTables } from './data-tables.js';
import { authorizerFaults, serviceMetric, tableThrottles } from './operations-metrics.js';
import type { ServiceFunction } from './service-function.js';

export interface ServiceAlarmsProps {
  readonly stage: string;
  /** Subscribed to the alarm topic when given; otherwise subscribe the on-call tool to the topic. */
  readonly alarmEmail?: string;
  /** Functions whose failures page, by name. */
  readonly pagingFunctions: ReadonlyMap<string, ServiceFunction>;
  /** The authorizer, by its name in `pagingFunctions`: its denials are errors by design, not failures. */
  readonly authorizerName: string;
  /**
   * Functions that run one at a time (reserved concurrency 1: the schedules): a throttle is a run
   * waiting for the previous one, not a failure.
   */
  readonly serialFunctions: ReadonlySet<string>;
  readonly tables: DataTables;
  /** Where failed asynchronous invocations and undeliverable events end up. */
  readonly failedEvents: IQueue;
}

/**
 * The alarms that page: each is something a user notices (launches fail or crawl, logs stop arriving,
 * requests fail) or work that was silently dropped. Each notifies the alarm topic when it fires and
 * when it recovers. The runbook (docs/operations.md) has a section per alarm.
 */
export class ServiceAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  private readonly stage: string;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    this.stage = props.stage;

    // CloudWatch can publish to an encrypted topic only with a customer managed key it may use.
    const key = new Key(this, 'TopicKey', {
      description: `Encrypts the preview service alarm topic (${props.stage})`,
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      displayName: `Preview service alarms (${props.stage})`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy that enforces TLS replaces the default one: CloudWatch needs its own allowance,
    // for this stage's alarms only.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `preview-${props.stage}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const fiveMinutes = Duration.minutes(5);
    const launches = serviceMetric('launches', props.stage, 'Sum', Duration.minutes(15));
    // Only the service's failures: a generated app that does not build or start is the user's to fix.
    const failures = serviceMetric('serviceLaunchFailures', props.stage, 'Sum', Duration.minutes(15));
    this.add('launch-failures', {
      runbook: 'Launches failing',
      description:
        "More than a quarter of launches failed in 15 minutes through the service's fault (at least 3 " +
        'launches); failures caused by the generated apps are not counted.',
      metric: new MathExpression({
        expression: 'IF(FILL(launches, 0) >= 3, 100 * FILL(failures, 0) / launches, 0)',
        usingMetrics: { launches, failures },
        label: 'Launches failed by the service (%)',
        period: Duration.minutes(15),
      }),
      threshold: 25,
      evaluationPeriods: 1,
    });
    this.add('launch-duration', {
      runbook: 'A preview stuck launching',
      description: 'Launches took more than 5 minutes to turn healthy (p95) for 15 minutes.',
      metric: serviceMetric('launchDuration', props.stage, 'p95', fiveMinutes),
      threshold: 5 * 60 * 1000,
      evaluationPeriods: 3,
    });
    this.add('fan-out-latency', {
      runbook: 'Logs not arriving',
      description: 'Log lines took more than 5 s to reach WebSocket clients (p95) for 15 minutes.',
      metric: serviceMetric('fanOutLatency', props.stage, 'p95', fiveMinutes),
      threshold: 5000,
      evaluationPeriods: 3,
    });
    this.add('failed-events', {
      runbook: 'Failed events',
      description:
        'Asynchronous invocations or events failed for good and are waiting in the failed-events queue.',
      metric: props.failedEvents.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    // The functions' own 5xx: an app's 5xx relayed by the proxy is its answer, and maintenance is asked for.
    // Crashes and timeouts that never reach the error middleware page through each function's alarm.
    this.add('api-server-errors', {
      runbook: 'A function is failing',
      description:
        'The REST functions answered 10 or more 5xx of their own in 5 minutes (5xx of the previewed apps ' +
        'and maintenance answers are not counted).',
      metric: serviceMetric('serverErrors', props.stage, 'Sum', fiveMinutes),
      threshold: 10,
      evaluationPeriods: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    // Ten metrics: the most one alarm's expression may use.
    const throttles = props.tables.entries().flatMap(({ table }) => tableThrottles(table, fiveMinutes));
    this.add('dynamodb-throttles', {
      runbook: 'DynamoDB throttles',
      description: 'DynamoDB throttled 10 or more requests in 5 minutes.',
      metric: new MathExpression({
        expression: 'SUM(METRICS())',
        usingMetrics: Object.fromEntries(throttles.map((metric, index) => [`t${index}`, metric])),
        label: 'Throttled requests',
        period: fiveMinutes,
      }),
      threshold: 10,
      evaluationPeriods: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    for (const [name, fn] of props.pagingFunctions) {
      const errors =
        name === props.authorizerName
          ? authorizerFaults(fn.function, props.stage, fiveMinutes)
          : fn.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' });
      const serial = props.serialFunctions.has(name);
      const what = name === props.authorizerName ? 'errors other than denials' : 'errors';
      this.add(`${name}-failing`, {
        runbook: 'A function is failing',
        description: serial
          ? `${name}: 5 or more ${what} in 5 minutes (it runs one at a time: a throttle is a run waiting).`
          : `${name}: 5 or more ${what} or throttled invocations in 5 minutes.`,
        metric: new MathExpression({
          expression: serial ? 'FILL(errors, 0)' : 'FILL(errors, 0) + FILL(throttles, 0)',
          usingMetrics: {
            errors,
            ...(serial
              ? {}
              : { throttles: fn.function.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }) }),
          },
          label: serial ? `${name} ${what}` : `${name} ${what} + throttles`,
          period: fiveMinutes,
        }),
        threshold: 5,
        evaluationPeriods: 1,
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
  }

  private add(
    name: string,
    options: {
      /** Section of docs/operations.md. */
      runbook: string;
      description: string;
      metric: IMetric;
      threshold: number;
      evaluationPeriods: number;
      comparison?: ComparisonOperator;
    },
  ): void {
    const alarm = new Alarm(this, name, {
      alarmName: `preview-${this.stage}-${name}`,
      alarmDescription: `${options.description} Runbook: docs/operations.md, "${options.runbook}".`,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data means nothing happened (no launches, no log lines), which is not a failure.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
