import { describe, expect, it } from 'vitest';
import { CodeBuildDatabaseSnapshots } from '#adapters/aws/codebuild-database-snapshots.js';
import { ecsRuntime } from '#adapters/aws/ecs-runtime.js';
import { loadConfig } from '#core/config.js';
import { ecsEnvironment } from './aws-fixtures.js';

const snapshotEnvironment = {
  PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: ecsEnvironment.PREVIEW_ECR_REPOSITORY_URI,
  PREVIEW_DB_SNAPSHOT_PROJECT: 'preview-db-snapshot-build',
};

function runtimeWith(env: Record<string, string>) {
  const config = loadConfig({
    ...ecsEnvironment,
    PREVIEW_RUNNER: 'ecs',
    PREVIEW_START_FUNCTION: 'preview-test-start-preview',
    ...env,
  });
  if (!config.ecs) throw new Error('the ECS section is configured');
  return ecsRuntime(config.ecs, config.logRetentionDays, config.databaseSnapshots);
}

describe('ecsRuntime', () => {
  it('keeps database snapshots in ECR, made by their CodeBuild project, where both are configured', () => {
    expect(runtimeWith(snapshotEnvironment).databaseSnapshots).toBeInstanceOf(CodeBuildDatabaseSnapshots);
  });

  it('keeps none without the project, or when snapshots are turned off', () => {
    expect(
      runtimeWith({
        PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: snapshotEnvironment.PREVIEW_DB_SNAPSHOT_REPOSITORY_URI,
      }).databaseSnapshots,
    ).toBeUndefined();
    expect(
      runtimeWith({ ...snapshotEnvironment, PREVIEW_DB_SNAPSHOTS: 'false' }).databaseSnapshots,
    ).toBeUndefined();
  });
});
