import { ArnFormat, Fn, Stack, type Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { FunctionAccess, RuntimeAccess, TableAccess, TableName } from '#handlers/registry.js';
import type { DataTables } from './data-tables.js';
import type { DatabaseSnapshotBuilds } from './database-snapshot-builds.js';
import type { ImageBuilds } from './image-builds.js';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';
import type { MaintenanceSwitch } from './maintenance-switch.js';
import type { PreviewCluster } from './preview-cluster.js';
import type { PreviewNetwork } from './preview-network.js';
import type { PreviewSecrets } from './preview-secrets.js';
import { ServiceFunction, type FunctionDefaults } from './service-function.js';
import type { PreviewWebSocketApi } from './websocket-api.js';

/** A bucket and the key prefix the service uses in it. */
export interface BucketArea {
  readonly bucket: IBucket;
  readonly prefix: string;
}

export interface ServiceResources {
  readonly defaults: FunctionDefaults;
  /** Every function gets these (table names, public URLs, tiers, ...). */
  readonly environment: Record<string, string>;
  readonly tables: DataTables;
  readonly network: PreviewNetwork;
  readonly cluster: PreviewCluster;
  readonly images: ImageBuilds;
  /** Read by every function that launches or recovers previews. */
  readonly maintenance: MaintenanceSwitch;
  readonly secrets: PreviewSecrets;
  readonly databaseSnapshots: DatabaseSnapshotBuilds;
  readonly generations: BucketArea;
  readonly buildSources: BucketArea;
  readonly exports: BucketArea;
  readonly webSocket: PreviewWebSocketApi;
  /** Fixed names of the asynchronously invoked functions. */
  readonly startPreviewFunction: string;
  readonly logReplayFunction: string;
}

export interface FunctionSpec {
  readonly entry: string;
  readonly description: string;
  readonly access: FunctionAccess;
  readonly functionName?: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly reservedConcurrency?: number;
}

/**
 * Makes the service's functions: each gets the common environment, plus the variables and permissions
 * its access names, and nothing else.
 */
export class FunctionFactory {
  constructor(private readonly resources: ServiceResources) {}

  create(scope: Construct, id: string, spec: FunctionSpec): ServiceFunction {
    const { access } = spec;
    const { network, webSocket } = this.resources;
    const fn = new ServiceFunction(scope, id, {
      entry: spec.entry,
      description: spec.description,
      defaults: this.resources.defaults,
      environment: this.resources.environment,
      functionName: spec.functionName,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
      reservedConcurrency: spec.reservedConcurrency,
      ...(access.reachesTasks
        ? {
            network: {
              vpc: network.vpc,
              subnets: network.functionSubnets,
              securityGroups: [network.proxySecurityGroup],
            },
          }
        : {}),
    });

    const live = access.websocket || access.previewLogs || access.startsReplays;
    const tables: Partial<Record<TableName, TableAccess>> = { ...access.tables };
    // Sending finds a preview's connections and forgets those that have gone (410).
    if (access.websocket) tables.connections = 'readwrite';
    for (const [name, level] of Object.entries(tables)) {
      this.resources.tables.grant(fn.role, name as TableName, level);
    }

    // Launching (the route, start-preview) and recovering (task events, health, sweep) stop in maintenance.
    if (access.startsPreviews || access.runtime === 'run') this.resources.maintenance.grantRead(fn);
    if (access.generations) this.grantGenerations(fn);
    if (access.runtime) this.grantRuntime(fn, access.runtime);
    if (live) fn.addEnvironment(this.liveEnvironment());
    if (access.websocket) webSocket.grantManageConnections(fn);
    if (access.previewLogs) this.grantPreviewLogs(fn);
    if (access.startsReplays) this.grantInvoke(fn, this.resources.logReplayFunction);
    if (access.exports) this.grantExports(fn);
    if (access.startsPreviews) this.grantInvoke(fn, this.resources.startPreviewFunction);
    if (access.slicesFanOut) this.grantSlices(fn, spec);
    if (access.makesDatabaseSnapshots) this.grantSnapshotBuilds(fn);
    if (access.listsDatabaseSnapshots) this.grantSnapshotListing(fn);
    return fn;
  }

  /** What the live stream reads (the log pipeline turns on when the management URL is set). */
  liveEnvironment(): Record<string, string> {
    const { webSocket, cluster } = this.resources;
    return {
      PREVIEW_WEBSOCKET_MANAGEMENT_URL: webSocket.managementUrl,
      PREVIEW_LOG_GROUP: cluster.logGroup.logGroupName,
      PREVIEW_ECS_CLUSTER: cluster.cluster.clusterName,
      PREVIEW_LOG_REPLAY_FUNCTION: this.resources.logReplayFunction,
      PREVIEW_REDACTIONS_TABLE: this.resources.secrets.redactions.tableName,
    };
  }

  /** `PREVIEW_RUNNER=ecs` and what the ECS runner, the CodeBuild image builder and the launch starter read. */
  runtimeEnvironment(): Record<string, string> {
    const { network, cluster, images, buildSources, secrets } = this.resources;
    const databaseImages = images.databaseImages();
    return {
      PREVIEW_RUNNER: 'ecs',
      ...secrets.environment(),
      PREVIEW_START_FUNCTION: this.resources.startPreviewFunction,
      PREVIEW_ECS_CLUSTER: cluster.cluster.clusterName,
      PREVIEW_ECS_SUBNETS: Fn.join(',', network.vpc.selectSubnets(network.previewSubnets).subnetIds),
      PREVIEW_ECS_SECURITY_GROUP: network.previewSecurityGroup.securityGroupId,
      PREVIEW_ECS_EXECUTION_ROLE_ARN: cluster.executionRole.roleArn,
      PREVIEW_ECS_TASK_ROLE_ARN: cluster.taskRole.roleArn,
      // The CodeBuild project builds on x86_64.
      PREVIEW_ECS_CPU_ARCHITECTURE: 'X86_64',
      PREVIEW_LOG_GROUP: cluster.logGroup.logGroupName,
      PREVIEW_ECR_REPOSITORY_URI: images.repository.repositoryUri,
      PREVIEW_CODEBUILD_PROJECT: images.project.projectName,
      PREVIEW_BUILD_BUCKET: buildSources.bucket.bucketName,
      PREVIEW_BUILD_PREFIX: buildSources.prefix,
      // The preview subnets cannot reach Docker Hub: database images come through the ECR cache.
      PREVIEW_DATABASE_IMAGE_POSTGRESQL: databaseImages.postgresql,
      PREVIEW_DATABASE_IMAGE_MONGODB: databaseImages.mongodb,
      PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: images.repository.repositoryUri,
      PREVIEW_DB_SNAPSHOT_PROJECT: this.resources.databaseSnapshots.project.projectName,
    };
  }

  /** Starting and following snapshot builds, and evicting snapshots (deleting their images). */
  private grantSnapshotBuilds(fn: ServiceFunction): void {
    const { databaseSnapshots, images } = this.resources;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
        resources: [databaseSnapshots.project.projectArn],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecr:BatchDeleteImage'],
        resources: [images.repository.repositoryArn],
      }),
    );
  }

  /** `GET …/preview/config` lists a generation's snapshots: the repository's tags. */
  private grantSnapshotListing(fn: ServiceFunction): void {
    const { images } = this.resources;
    fn.addEnvironment({ PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: images.repository.repositoryUri });
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['ecr:DescribeImages'], resources: [images.repository.repositoryArn] }),
    );
  }

  /** Its own fixed name and the right to invoke it: an ARN built from the name, not a reference to itself. */
  private grantSlices(fn: ServiceFunction, spec: FunctionSpec): void {
    if (!spec.functionName)
      throw new Error(`${spec.entry}: a function that slices its fan-out needs a fixed name`);
    fn.addEnvironment({ PREVIEW_LOG_FAN_OUT_FUNCTION: spec.functionName });
    this.grantInvoke(fn, spec.functionName);
  }

  private grantInvoke(fn: ServiceFunction, functionName: string): void {
    const arn = Stack.of(fn).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [arn] }));
  }

  private grantGenerations(fn: ServiceFunction): void {
    const { bucket, prefix } = this.resources.generations;
    const objects = bucket.arnForObjects(`${prefix}*`);
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    acknowledgeWildcardResource(fn, objects, `Reads the files of any generation, all under ${prefix}.`);
  }

  /** CloudWatch Logs for the lines; ECS to find a preview's tasks (streams) and a task's preview. */
  private grantPreviewLogs(fn: ServiceFunction): void {
    const { cluster } = this.resources;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:DescribeLogStreams'],
        resources: [cluster.logGroup.logGroupArn],
      }),
    );
    this.grantTaskLookup(fn, ['ecs:DescribeTasks']);
    this.resources.secrets.grantReadRedactions({ role: fn.role });
  }

  private grantExports(fn: ServiceFunction): void {
    const { bucket, prefix } = this.resources.exports;
    const objects = bucket.arnForObjects(`${prefix}*`);
    fn.addEnvironment({ PREVIEW_EXPORTS_BUCKET: bucket.bucketName, PREVIEW_EXPORTS_PREFIX: prefix });
    // GetObject: a presigned download URL carries the signer's permissions.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: [objects],
      }),
    );
    acknowledgeWildcardResource(fn, objects, `Export files are named at run time, all under ${prefix}.`);
  }

  /** ListTasks (scoped by the cluster condition) and the given actions on the cluster's tasks. */
  private grantTaskLookup(fn: ServiceFunction, taskActions: string[]): void {
    const { cluster } = this.resources;
    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.cluster.clusterArn } };
    const tasks = cluster.taskArns();
    // ListTasks has no resource type of its own: the cluster condition scopes it.
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: inCluster }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: taskActions, resources: [tasks], conditions: inCluster }),
    );
    fn.acknowledgeAnyResource(
      'ecs:ListTasks takes no resource; the ecs:cluster condition limits it to the preview cluster.',
    );
    acknowledgeWildcardResource(
      fn,
      tasks,
      'Tasks are started at run time; the grant covers the preview cluster only.',
    );
  }

  private grantRuntime(fn: ServiceFunction, level: RuntimeAccess): void {
    const { cluster, images, buildSources } = this.resources;
    fn.addEnvironment(this.runtimeEnvironment());
    this.grantTaskLookup(fn, level === 'stop' ? ['ecs:StopTask'] : ['ecs:StopTask', 'ecs:DescribeTasks']);
    // Stopping a preview deletes its secrets; only a launch writes them.
    if (level === 'run') this.resources.secrets.grantWrite({ role: fn.role, scope: fn });
    else this.resources.secrets.grantDelete({ role: fn.role, scope: fn });
    if (level === 'stop') return;

    // Definitions are registered at run time, one per content hash; describing takes no resource.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] }));
    fn.acknowledgeAnyResource('ecs:DescribeTaskDefinition supports no resource-level permissions.');
    if (level === 'manage') return;

    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.cluster.clusterArn } };
    const families = cluster.previewTaskDefinitionArns();
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:RegisterTaskDefinition'],
        resources: ['*'],
        // The ECS runner tags every definition it registers.
        conditions: { StringEquals: { 'aws:RequestTag/preview:managed': 'true' } },
      }),
    );
    fn.acknowledgeAnyResource(
      'ecs:RegisterTaskDefinition supports no resource-level permissions; the request-tag condition limits it to ' +
        'definitions tagged preview:managed.',
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['ecs:RunTask'], resources: [families], conditions: inCluster }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: [families, cluster.taskArns()],
        conditions: { StringEquals: { 'ecs:CreateAction': ['RunTask', 'RegisterTaskDefinition'] } },
      }),
    );
    acknowledgeWildcardResource(
      fn,
      families,
      'Task definition families are content hashes registered at run time (preview-<16 hex>).',
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [cluster.executionRole.roleArn, cluster.taskRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );

    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
        resources: [images.project.projectArn],
      }),
    );
    // The image and snapshot tags, and the digests of the database images that key snapshots.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecr:DescribeImages'],
        resources: [images.repository.repositoryArn, this.resources.databaseSnapshots.cacheRepositoryArns],
      }),
    );
    acknowledgeWildcardResource(
      fn,
      this.resources.databaseSnapshots.cacheRepositoryArns,
      "The pull-through cache creates one repository per public image, all under this stage's prefix.",
    );
    const sources = buildSources.bucket.arnForObjects(`${buildSources.prefix}*`);
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [sources] }));
    acknowledgeWildcardResource(fn, sources, 'Build sources are named by content hash at run time.');
  }
}
