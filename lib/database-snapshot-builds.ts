import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { BuildSpec, ComputeType, LinuxBuildImage, Project } from 'aws-cdk-lib/aws-codebuild';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { snapshotBuildspec } from '#adapters/aws/database-snapshot-build.js';
import { acknowledgeCodeBuildDefaults, acknowledgeWildcardResource } from './nag-acknowledgements.js';
import type { PreviewSecrets } from './preview-secrets.js';

export interface DatabaseSnapshotBuildsProps {
  readonly stage: string;
  /** Where snapshot images are pushed: the preview image repository, as `db-snapshot-*` tags. */
  readonly repository: IRepository;
  /** Repository prefix of the pull-through cache the database images come from. */
  readonly publicImagePrefix: string;
  /** Where start-preview uploads each build's plan (`<prefix>db-snapshot-<key>.zip`). */
  readonly sourceBucket: IBucket;
  readonly sourcePrefix: string;
  /** The build's secret values are parameters under `<path>/db-snapshot-<key>/`. */
  readonly secrets: PreviewSecrets;
  readonly logRetention: RetentionDays;
  readonly retain: boolean;
}

/**
 * The CodeBuild project that makes database snapshots: it runs a launch's database, migrate and
 * seed containers on their own and pushes the stopped database as an image (database-snapshot-build.ts).
 * Its role reads only snapshot sources, reads and deletes only snapshot parameters, pulls the app
 * and database images and pushes to the preview repository.
 */
export class DatabaseSnapshotBuilds extends Construct {
  readonly project: Project;
  /** `<prefix>/*`: the pull-through cache's repositories, whose digests key snapshots. */
  readonly cacheRepositoryArns: string;

  constructor(scope: Construct, id: string, props: DatabaseSnapshotBuildsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const logGroup = new LogGroup(this, 'BuildLogs', {
      retention: props.logRetention,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.project = new Project(this, 'Project', {
      description: `Builds database snapshots of migrated and seeded previews (${props.stage})`,
      buildSpec: BuildSpec.fromObject(snapshotBuildspec),
      // x86_64, as the app images it runs and the preview tasks that run its images.
      environment: {
        buildImage: LinuxBuildImage.STANDARD_7_0,
        computeType: ComputeType.SMALL,
        // The build runs containers: only privileged mode provides the Docker daemon.
        privileged: true,
      },
      // start-preview waits for the build after the launch it follows, within its 15 minutes.
      // The shortest queue timeout CodeBuild accepts.
      queuedTimeout: Duration.minutes(5),
      timeout: Duration.minutes(8),
      logging: { cloudWatch: { logGroup } },
    });

    const sources = props.sourceBucket.arnForObjects(`${props.sourcePrefix}db-snapshot-*`);
    this.project.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadSnapshotPlans',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [sources],
      }),
    );
    this.project.addToRolePolicy(
      new PolicyStatement({
        sid: 'LocateSnapshotPlans',
        actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
        resources: [props.sourceBucket.bucketArn],
      }),
    );
    // Pushes snapshot images; pulls the app images that run migrate and seed.
    props.repository.grantPullPush(this.project);
    this.cacheRepositoryArns = stack.formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: `${props.publicImagePrefix}/*`,
    });
    this.project.addToRolePolicy(
      new PolicyStatement({
        sid: 'PullDatabaseImages',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:GetDownloadUrlForLayer',
          'ecr:BatchGetImage',
          // The first pull of a public image through the cache creates its repository and imports it.
          'ecr:CreateRepository',
          'ecr:BatchImportUpstreamImage',
        ],
        resources: [this.cacheRepositoryArns],
      }),
    );
    const parameters = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${props.secrets.path.slice(1)}/db-snapshot-*`,
    });
    // Read at the build's start, deleted at its end.
    this.project.addToRolePolicy(
      new PolicyStatement({
        sid: 'SnapshotSecrets',
        actions: ['ssm:GetParameters', 'ssm:DeleteParameters'],
        resources: [parameters],
      }),
    );
    props.secrets.key.grantDecrypt(this.project);

    Validations.of(this.project).acknowledge({
      id: 'AwsSolutions-CB4',
      reason:
        'The project has no artifacts: its output is an image pushed to ECR (encrypted at rest by ECR). ' +
        'Its logs go to CloudWatch Logs; nothing is written to S3 with the project key.',
    });
    acknowledgeCodeBuildDefaults(this.project);
    acknowledgeWildcardResource(
      this.project,
      sources,
      'Snapshot plans are named by snapshot key at run time, all under the build-sources prefix.',
    );
    acknowledgeWildcardResource(
      this.project,
      this.cacheRepositoryArns,
      "The pull-through cache creates one repository per public image, all under this stage's prefix.",
    );
    acknowledgeWildcardResource(
      this.project,
      parameters,
      "Each build's secret parameters are named by its snapshot key, all under the stage's secrets path.",
    );
  }
}
