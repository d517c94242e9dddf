import type { Config } from '#core/config.js';
import type { PreviewRuntime } from '#core/task-runner.js';
import { systemClock } from '#core/clock.js';
import { codeBuild, dynamoDocumentClient, ecr, ecs, lambda, s3, ssm } from './clients.js';
import { DynamoDbRedactionLists } from './dynamodb-redaction-lists.js';
import { CodeBuildDatabaseSnapshots } from './codebuild-database-snapshots.js';
import { CodeBuildImageBuilder } from './codebuild-image-builder.js';
import { EcrSnapshotImages } from './ecr-snapshot-images.js';
import { EcsTaskRunner } from './ecs-task-runner.js';
import { LambdaLaunchStarter } from './lambda-launch-starter.js';

/**
 * Previews on ECS Fargate, images from CodeBuild, launches started by the start-preview function;
 * database snapshots made by their CodeBuild project where one is configured.
 */
export function ecsRuntime(
  { settings, startFunction }: NonNullable<Config['ecs']>,
  logRetentionDays: number,
  snapshots: Config['databaseSnapshots'],
): PreviewRuntime {
  const { repositoryUri, buildProject } = snapshots;
  return {
    runner: new EcsTaskRunner(
      {
        ecs: ecs(),
        ssm: ssm(),
        redactions: new DynamoDbRedactionLists(dynamoDocumentClient(), settings.redactionsTable),
        clock: systemClock,
      },
      { ...settings, logRetentionDays },
    ),
    imageBuilder: new CodeBuildImageBuilder({ ecr: ecr(), s3: s3(), codeBuild: codeBuild() }, settings),
    starter: new LambdaLaunchStarter(lambda(), startFunction),
    ...(snapshots.enabled && repositoryUri && buildProject
      ? {
          databaseSnapshots: new CodeBuildDatabaseSnapshots(
            new EcrSnapshotImages(ecr(), repositoryUri),
            { codeBuild: codeBuild(), s3: s3(), ssm: ssm() },
            { ...settings, repositoryUri, project: buildProject },
          ),
        }
      : {}),
  };
}
