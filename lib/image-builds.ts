import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { BuildSpec, ComputeType, LinuxBuildImage, Project } from 'aws-cdk-lib/aws-codebuild';
import { CfnPullThroughCacheRule, Repository, TagMutability, TagStatus } from 'aws-cdk-lib/aws-ecr';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeCodeBuildDefaults, acknowledgeWildcardResource } from './nag-acknowledgements.js';
import { imageBuildspec } from '#adapters/aws/codebuild-image-builder.js';
import { defaultDatabaseImages } from '#core/task-definition.js';

export interface ImageBuildsProps {
  readonly stage: string;
  /** Where the image builder uploads build sources for CodeBuild. */
  readonly sourceBucket: IBucket;
  /** Key prefix of the build sources in that bucket. */
  readonly sourcePrefix: string;
  readonly logRetention: RetentionDays;
  readonly retain: boolean;
}

/**
 * How preview images come to be: the ECR repository they are pushed to (tagged by content hash, so the
 * tag's presence is the build cache), the CodeBuild project that builds them, and a pull-through cache
 * of ECR Public for the database images, which the isolated preview subnets could not pull otherwise.
 */
export class ImageBuilds extends Construct {
  readonly repository: Repository;
  readonly project: Project;
  /** Repository prefix under which ECR Public images are cached, e.g. `<prefix>/docker/library/postgres`. */
  readonly publicImagePrefix: string;

  constructor(scope: Construct, id: string, props: ImageBuildsProps) {
    super(scope, id);

    this.repository = new Repository(this, 'Repository', {
      imageScanOnPush: true,
      // Tags are content hashes, so a tag never names other content; but two launches of the same new
      // generation build and push the same tag at once, which an immutable repository would refuse.
      imageTagMutability: TagMutability.MUTABLE,
      lifecycleRules: [
        {
          description: 'Layers of interrupted or replaced pushes',
          tagStatus: TagStatus.UNTAGGED,
          maxImageAge: Duration.days(1),
          rulePriority: 1,
        },
        {
          description: 'Images not pushed for 30 days: a later launch rebuilds them',
          tagStatus: TagStatus.ANY,
          maxImageAge: Duration.days(30),
          rulePriority: 2,
        },
      ],
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      emptyOnDelete: !props.retain,
    });

    this.publicImagePrefix = `preview-${props.stage}`;
    new CfnPullThroughCacheRule(this, 'PublicImageCache', {
      ecrRepositoryPrefix: this.publicImagePrefix,
      upstreamRegistryUrl: 'public.ecr.aws',
    });

    const logGroup = new LogGroup(this, 'BuildLogs', {
      retention: props.logRetention,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.project = new Project(this, 'Project', {
      description: `Builds preview images from generation sources (${props.stage})`,
      buildSpec: BuildSpec.fromObject(imageBuildspec),
      // x86_64, as the ECS runner's default CPU architecture for preview tasks.
      environment: {
        buildImage: LinuxBuildImage.STANDARD_7_0,
        computeType: ComputeType.SMALL,
        // `docker build` needs the Docker daemon, which only privileged mode provides.
        privileged: true,
      },
      // Queued and building together fit within the launch timeout (15 minutes), so start-preview sees
      // every build end.
      queuedTimeout: Duration.minutes(5),
      timeout: Duration.minutes(9),
      logging: { cloudWatch: { logGroup } },
    });

    // The source of each build is given at StartBuild (S3, `<bucket>/<prefix><hash>.zip`).
    this.project.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadBuildSources',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.sourceBucket.arnForObjects(`${props.sourcePrefix}*`)],
      }),
    );
    this.project.addToRolePolicy(
      new PolicyStatement({
        sid: 'LocateBuildSources',
        actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
        resources: [props.sourceBucket.bucketArn],
      }),
    );
    this.repository.grantPullPush(this.project);

    Validations.of(this.project).acknowledge({
      id: 'AwsSolutions-CB4',
      reason:
        'The project has no artifacts: its output is an image pushed to ECR (encrypted at rest by ECR). ' +
        'Its logs go to CloudWatch Logs; nothing is written to S3 with the project key.',
    });
    acknowledgeCodeBuildDefaults(this.project);
    acknowledgeWildcardResource(
      this.project,
      props.sourceBucket.arnForObjects(`${props.sourcePrefix}*`),
      'Build sources are named by content hash at run time, all under the build-sources prefix.',
    );
  }

  /** Database images as pulled through the cache, e.g. `<registry>/preview-dev/docker/library/postgres:15`. */
  databaseImages(): { postgresql: string; mongodb: string } {
    const stack = Stack.of(this);
    const registry = `${stack.account}.dkr.ecr.${stack.region}.${stack.urlSuffix}`;
    const cached = (image: string) => `${registry}/${this.publicImagePrefix}/docker/library/${image}`;
    return {
      postgresql: cached(defaultDatabaseImages.postgresql),
      mongodb: cached(defaultDatabaseImages.mongodb),
    };
  }
}
