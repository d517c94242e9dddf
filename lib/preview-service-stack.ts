import { CfnOutput, Duration, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FilterPattern, SubscriptionFilter, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { launchTimeoutSeconds } from '#handlers/registry.js';
import { tierVariables, type TierName } from '#core/tiers.js';
import { DataTables } from './data-tables.js';
import { reservedConcurrency } from './function-concurrency.js';
import { FunctionFactory } from './function-factory.js';
import { DatabaseSnapshotBuilds } from './database-snapshot-builds.js';
import { ImageBuilds } from './image-builds.js';
import { MaintenanceSwitch } from './maintenance-switch.js';
import { OperationsDashboard } from './operations-dashboard.js';
import { PreviewCluster } from './preview-cluster.js';
import { PreviewNetwork } from './preview-network.js';
import { PreviewRestApi } from './rest-api.js';
import { PreviewSecrets } from './preview-secrets.js';
import { SecureBucket } from './secure-bucket.js';
import { ServiceAlarms } from './service-alarms.js';
import { projectRoot, serviceName, type FunctionDefaults, type ServiceFunction } from './service-function.js';
import { invokedFunctionName, stackFunctions, type StackFunction } from './stack-functions.js';
import type { StageConfig, TierOverrides } from './stage-config.js';
import { PreviewWebSocketApi } from './websocket-api.js';

export interface PreviewServiceStackProps extends StackProps {
  readonly config: StageConfig;
}

export function stackName(stage: string): string {
  return `PreviewService-${stage}`;
}

/** Key prefixes in the service's buckets (the generations prefix is also the runtime's default). */
export const bucketPrefixes = {
  generations: 'generations/',
  buildSources: 'build-sources/',
  exports: 'exports/',
} as const;

/**
 * One stage of the preview service. Environment-agnostic: synthesizes with no AWS account or lookups.
 * Functions come from the function registry (functions/handlers/registry.ts), through lib/stack-functions.ts.
 */
export class PreviewServiceStack extends Stack {
  readonly config: StageConfig;
  readonly tables: DataTables;
  readonly network: PreviewNetwork;
  readonly previews: PreviewCluster;
  readonly images: ImageBuilds;
  readonly secrets: PreviewSecrets;
  readonly databaseSnapshots: DatabaseSnapshotBuilds;
  readonly buckets: { generations: SecureBucket; buildSources: SecureBucket; exports: SecureBucket };
  readonly restApi: PreviewRestApi;
  readonly webSocket: PreviewWebSocketApi;
  readonly failedEvents: Queue;
  readonly maintenance: MaintenanceSwitch;
  /** Every function but the authorizer, by handler name. */
  readonly functions = new Map<string, ServiceFunction>();
  readonly alarms: ServiceAlarms;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: PreviewServiceStackProps) {
    super(scope, id, {
      description: `Preview service (${props.config.stage}): builds, runs and monitors previews of generated backends`,
      ...props,
    });
    const { config } = props;
    this.config = config;
    const { stage, production } = config;
    Tags.of(this).add('service', serviceName);
    Tags.of(this).add('stage', stage);

    const defaults: FunctionDefaults = {
      stage,
      retainLogs: production,
      logRetention: config.logRetentionDays as RetentionDays,
      projectRoot,
    };
    const logs = { logRetention: defaults.logRetention, retainLogs: production };

    this.tables = new DataTables(this, 'Tables', { retain: production });
    this.network = new PreviewNetwork(this, 'Network', { natGateways: config.natGateways, ...logs });
    this.buckets = this.createBuckets(config);
    this.network.restrictS3Endpoint([this.buckets.generations.bucket, this.buckets.buildSources.bucket]);
    this.images = new ImageBuilds(this, 'Images', {
      stage,
      sourceBucket: this.buckets.buildSources.bucket,
      sourcePrefix: bucketPrefixes.buildSources,
      logRetention: defaults.logRetention,
      retain: production,
    });
    this.previews = new PreviewCluster(this, 'Previews', {
      stage,
      vpc: this.network.vpc,
      repository: this.images.repository,
      publicImagePrefix: this.images.publicImagePrefix,
      ...logs,
    });
    this.secrets = new PreviewSecrets(this, 'Secrets', { stage, retain: production });
    this.secrets.grantFetch({ role: this.previews.executionRole, scope: this.previews.executionRole });
    this.databaseSnapshots = new DatabaseSnapshotBuilds(this, 'DatabaseSnapshots', {
      stage,
      repository: this.images.repository,
      publicImagePrefix: this.images.publicImagePrefix,
      sourceBucket: this.buckets.buildSources.bucket,
      sourcePrefix: bucketPrefixes.buildSources,
      secrets: this.secrets,
      logRetention: defaults.logRetention,
      retain: production,
    });
    const cacheRepositories = this.formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: `${this.images.publicImagePrefix}/*`,
    });
    this.network.restrictEndpoints({
      repositoryArns: [this.images.repository.repositoryArn],
      cacheRepositoryArns: [cacheRepositories],
      logGroupArn: this.previews.logGroup.logGroupArn,
      parameterArns: this.secrets.parameterArns(),
      tableArns: [
        ...this.tables.entries().map(({ table }) => table.tableArn),
        this.secrets.redactions.tableArn,
      ],
    });

    this.restApi = new PreviewRestApi(this, 'Rest', {
      defaults,
      jwt: config.jwt,
      drainLaunches: config.drainLaunches,
      ...(config.allowedOrigin ? { allowedOrigin: config.allowedOrigin } : {}),
      ...(config.webAclArn ? { webAclArn: config.webAclArn } : {}),
      userRateLimitPerMinute: config.userRateLimitPerMinute,
    });

    this.webSocket = new PreviewWebSocketApi(this, 'WebSocket', { stage, ...logs });

    this.failedEvents = new Queue(this, 'FailedEvents', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failedEvents).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the asynchronous invocations and event rules itself.',
    });

    this.maintenance = new MaintenanceSwitch(this, 'Maintenance', { stage });

    const functions = stackFunctions();
    const factory = new FunctionFactory({
      defaults,
      environment: this.serviceEnvironment(config),
      tables: this.tables,
      network: this.network,
      cluster: this.previews,
      images: this.images,
      maintenance: this.maintenance,
      secrets: this.secrets,
      databaseSnapshots: this.databaseSnapshots,
      generations: { bucket: this.buckets.generations.bucket, prefix: bucketPrefixes.generations },
      buildSources: { bucket: this.buckets.buildSources.bucket, prefix: bucketPrefixes.buildSources },
      exports: { bucket: this.buckets.exports.bucket, prefix: bucketPrefixes.exports },
      webSocket: this.webSocket,
      startPreviewFunction: invokedFunctionName(stage, 'start-preview'),
      logReplayFunction: invokedFunctionName(stage, 'log-replay'),
    });
    const functionGroup = new Construct(this, 'Functions');

    const paging = new Map<string, ServiceFunction>([['authorizer', this.restApi.authorizer.function]]);
    for (const entry of functions) {
      const fn = factory.create(functionGroup, pascalCase(entry.name), {
        ...entry,
        ...(entry.trigger.kind === 'invoked' || entry.access.slicesFanOut
          ? { functionName: invokedFunctionName(stage, entry.name) }
          : {}),
        reservedConcurrency: reservedConcurrency(entry, config.concurrency),
      });
      this.functions.set(entry.name, fn);
      if (entry.pages) paging.set(entry.name, fn);
      this.connectTrigger(entry, fn);
    }

    this.alarms = new ServiceAlarms(this, 'Alarms', {
      stage,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
      pagingFunctions: paging,
      authorizerName: 'authorizer',
      serialFunctions: new Set(functions.filter((e) => e.trigger.kind === 'schedule').map((e) => e.name)),
      tables: this.tables,
      failedEvents: this.failedEvents,
    });
    this.dashboard = new OperationsDashboard(this, 'Operations', {
      stage,
      functions: new Map([['authorizer', this.restApi.authorizer.function], ...this.functions]),
      authorizer: this.restApi.authorizer.function,
      tables: this.tables,
      restApi: this.restApi.api,
      failedEvents: this.failedEvents,
      alarms: this.alarms.alarms,
      clusterName: this.previews.cluster.clusterName,
    });

    this.outputs();
  }

  /** What every function gets: where the tables, buckets and APIs are, the tiers, the allowed origin. */
  private serviceEnvironment(config: StageConfig): Record<string, string> {
    return {
      ...this.tables.environment(),
      PREVIEW_PUBLIC_URL: this.restApi.publicUrl,
      PREVIEW_WEBSOCKET_URL: this.webSocket.url,
      PREVIEW_GENERATIONS_BUCKET: this.buckets.generations.bucket.bucketName,
      PREVIEW_GENERATIONS_PREFIX: bucketPrefixes.generations,
      // How long a preview's logs stay queryable: the preview log group's retention.
      PREVIEW_LOG_RETENTION_DAYS: String(config.logRetentionDays),
      PREVIEW_LAUNCH_TIMEOUT_SECONDS: String(launchTimeoutSeconds),
      // Every generation in the bucket must name the user it belongs to.
      PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'false',
      ...tierEnvironment(config.tiers),
      PREVIEW_DB_SNAPSHOTS: String(config.databaseSnapshots),
      ...(config.allowedOrigin ? { PREVIEW_ALLOWED_ORIGIN: config.allowedOrigin } : {}),
    };
  }

  private createBuckets(config: StageConfig) {
    const retain = config.production;
    const accessLogs = new SecureBucket(this, 'AccessLogs', {
      retain,
      lifecycleRules: [{ id: 'Expire', expiration: Duration.days(config.logRetentionDays) }],
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the server access logs of the other buckets; logging it would loop.',
    });
    return {
      // Written by the SaaS (one folder per generation), read by the functions.
      generations: new SecureBucket(this, 'Generations', { retain, accessLogs: accessLogs.bucket }),
      // Zips uploaded for CodeBuild: only needed while the build runs.
      buildSources: new SecureBucket(this, 'BuildSources', {
        retain: false,
        accessLogs: accessLogs.bucket,
        lifecycleRules: [{ id: 'Expire', expiration: Duration.days(7) }],
      }),
      // Log exports behind presigned URLs, which live 7 days at most.
      exports: new SecureBucket(this, 'Exports', {
        retain: false,
        accessLogs: accessLogs.bucket,
        lifecycleRules: [{ id: 'Expire', prefix: bucketPrefixes.exports, expiration: Duration.days(7) }],
      }),
    };
  }

  /** Wires a function to its API route or event source; every asynchronous one reports failures to the queue. */
  private connectTrigger(entry: StackFunction, fn: ServiceFunction): void {
    const { trigger } = entry;
    if (trigger.kind === 'rest') {
      for (const route of trigger.routes) this.restApi.addRoute(route, fn);
      return;
    }
    if (trigger.kind === 'websocket') {
      this.webSocket.addRoute(trigger.routeKey, fn.function);
      return;
    }
    const retries = entry.retries ?? { attempts: 2, maxEventAge: Duration.hours(1) };
    fn.sendFailuresTo(this.failedEvents, retries);
    const target = () =>
      new LambdaFunction(fn.function, {
        deadLetterQueue: this.failedEvents,
        retryAttempts: retries.attempts,
        maxEventAge: retries.maxEventAge,
      });
    const id = pascalCase(entry.name);
    switch (trigger.kind) {
      case 'preview-logs':
        new SubscriptionFilter(this, `${id}Subscription`, {
          logGroup: this.previews.logGroup,
          destination: new LambdaDestination(fn.function),
          filterPattern: FilterPattern.allEvents(),
        });
        break;
      case 'task-state':
        new Rule(this, `${id}Rule`, {
          description: `ECS task state changes of the preview cluster → ${entry.name}`,
          eventPattern: {
            source: ['aws.ecs'],
            detailType: ['ECS Task State Change'],
            detail: { clusterArn: [this.previews.cluster.clusterArn] },
          },
          targets: [target()],
        });
        break;
      case 'schedule':
        new Rule(this, `${id}Schedule`, {
          description: `Every ${trigger.every.toHumanString()} → ${entry.name}`,
          schedule: Schedule.rate(trigger.every),
          targets: [target()],
        });
        break;
      case 'invoked':
        break;
    }
  }

  private outputs(): void {
    const output = (id: string, description: string, value: string) =>
      new CfnOutput(this, id, { description, value });
    output('RestApiUrl', 'Base URL of the REST API stage (routes start with /api)', this.restApi.api.url);
    output(
      'WebSocketUrl',
      'WebSocket API stage URL (the launch response adds the query)',
      this.webSocket.url,
    );
    for (const { definition, table } of this.tables.entries()) {
      output(
        `${definition.name.charAt(0).toUpperCase()}${definition.name.slice(1)}TableName`,
        `Name of the ${definition.name} table (${definition.envVar})`,
        table.tableName,
      );
    }
    output(
      'GenerationsBucketName',
      `Where the SaaS writes generations (${bucketPrefixes.generations}<generationId>/...)`,
      this.buckets.generations.bucket.bucketName,
    );
    output('PreviewClusterName', 'ECS cluster preview tasks run in', this.previews.cluster.clusterName);
    output('PreviewLogGroupName', 'Log group of the preview containers', this.previews.logGroup.logGroupName);
    output('ImageRepositoryUri', 'ECR repository of preview images', this.images.repository.repositoryUri);
    output(
      'MaintenanceParameterName',
      'Maintenance switch (on/off): on stops launches, recoveries and every preview',
      this.maintenance.parameter.parameterName,
    );
    output('FailedEventsQueueUrl', 'Failed asynchronous invocations and events', this.failedEvents.queueUrl);
    output(
      'AlarmTopicArn',
      'Alarm notifications: subscribe the on-call tool here',
      this.alarms.topic.topicArn,
    );
    output('DashboardName', 'CloudWatch dashboard of the stage', this.dashboard.dashboard.dashboardName);
  }
}

/** `PREVIEW_RESOURCE_TIER_<TIER>` for each overridden tier. */
function tierEnvironment(tiers: TierOverrides): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tiers).map(([name, fields]) => [tierVariables[name as TierName], JSON.stringify(fields)]),
  );
}

/** `list-previews` → `ListPreviews`. */
function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('');
}
