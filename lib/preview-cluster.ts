import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';

export interface PreviewClusterProps {
  readonly stage: string;
  readonly vpc: IVpc;
  /** Where preview images are pushed. */
  readonly repository: IRepository;
  /** Repository prefix of the pull-through cache for public images (database sidecars). */
  readonly publicImagePrefix: string;
  readonly logRetention: RetentionDays;
  readonly retainLogs: boolean;
}

/**
 * Where preview tasks run: the Fargate cluster, the log group their containers write to, and the two
 * roles every preview task definition names. Task definitions themselves are registered at run time
 * by the ECS runner (one per content hash), not here.
 */
export class PreviewCluster extends Construct {
  readonly cluster: Cluster;
  /** `/preview/<stage>`: one stream per task and container (`preview/<container>/<task id>`). */
  readonly logGroup: LogGroup;
  /** Used by ECS to pull images and ship logs. */
  readonly executionRole: Role;
  /** The identity of the generated app itself: no permissions at all. */
  readonly taskRole: Role;

  constructor(scope: Construct, id: string, props: PreviewClusterProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.cluster = new Cluster(this, 'Cluster', {
      vpc: props.vpc,
      // Per-task CPU and memory for status and the dashboard: ECS itself reports no stats for Fargate.
      containerInsightsV2: ContainerInsights.ENHANCED,
    });

    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/preview/${props.stage}`,
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // Only ECS acting for this account may assume the roles (no confused deputy).
    const ecsTasks = () =>
      new ServicePrincipal('ecs-tasks.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:*` },
      });

    this.executionRole = new Role(this, 'ExecutionRole', {
      assumedBy: ecsTasks(),
      description: `Pulls preview images and ships preview logs (${props.stage})`,
    });
    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: ecsTasks(),
      description: `Identity of generated preview apps: no permissions (${props.stage})`,
    });

    const publicImages = stack.formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: `${props.publicImagePrefix}/*`,
    });
    this.executionRole.addToPolicy(
      new PolicyStatement({
        sid: 'PullImages',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [props.repository.repositoryArn, publicImages],
      }),
    );
    // The first pull of a public image through the cache creates its repository and imports it.
    this.executionRole.addToPolicy(
      new PolicyStatement({
        sid: 'FillPullThroughCache',
        actions: ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
        resources: [publicImages],
      }),
    );
    this.executionRole.addToPolicy(
      new PolicyStatement({
        sid: 'RegistryLogin',
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    this.logGroup.grantWrite(this.executionRole);
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken (registry login) supports no resource-level permissions.',
    });
    acknowledgeWildcardResource(
      this.executionRole,
      publicImages,
      'Repositories of the pull-through cache are created on first pull, one per public image, all under ' +
        "this stage's prefix.",
    );
  }

  /** `arn:…:task/<cluster>/*`: the tasks of this cluster (long ARN format). */
  taskArns(): string {
    return Stack.of(this).formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${this.cluster.clusterName}/*`,
    });
  }

  /** `arn:…:task-definition/preview-*`: the families the ECS runner registers (`preview-<16 hex>`). */
  previewTaskDefinitionArns(): string {
    return Stack.of(this).formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: 'preview-*',
    });
  }
}
