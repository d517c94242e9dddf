import { describe, expect, it } from 'vitest';
import { ConfigError, loadEcsSettings } from '#core/config.js';
import { ecsEnvironment } from './aws-fixtures.js';

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadEcsSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadEcsSettings', () => {
  it('reads the stack resources, with x86 and the default build prefix unless told otherwise', () => {
    expect(loadEcsSettings(ecsEnvironment)).toEqual({
      cluster: 'previews',
      subnets: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
      securityGroup: 'sg-0123456789abcdef0',
      executionRoleArn: 'arn:aws:iam::123456789012:role/preview-execution',
      taskRoleArn: 'arn:aws:iam::123456789012:role/preview-task',
      cpuArchitecture: 'X86_64',
      logGroup: '/preview/test',
      region: 'eu-west-1',
      repositoryUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app',
      codeBuildProject: 'preview-image-build',
      buildBucket: 'preview-build-sources',
      buildPrefix: 'build-sources/',
      secretsPath: '/preview-service/test/secrets',
      secretsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      redactionsTable: 'preview-redactions',
    });
  });

  it('takes the architecture and build prefix from the environment', () => {
    const settings = loadEcsSettings({
      ...ecsEnvironment,
      PREVIEW_ECS_CPU_ARCHITECTURE: 'ARM64',
      PREVIEW_BUILD_PREFIX: 'sources/',
    });
    expect(settings.cpuArchitecture).toBe('ARM64');
    expect(settings.buildPrefix).toBe('sources/');
  });

  it('names every missing variable', () => {
    expect(problemsOf({})).toEqual([
      'PREVIEW_ECS_CLUSTER: is required',
      'PREVIEW_ECS_SUBNETS: is required',
      'PREVIEW_ECS_SECURITY_GROUP: is required',
      'PREVIEW_ECS_EXECUTION_ROLE_ARN: is required',
      'PREVIEW_ECS_TASK_ROLE_ARN: is required',
      'PREVIEW_LOG_GROUP: is required',
      'AWS_REGION: is required',
      'PREVIEW_ECR_REPOSITORY_URI: is required',
      'PREVIEW_CODEBUILD_PROJECT: is required',
      'PREVIEW_BUILD_BUCKET: is required',
      'PREVIEW_SECRETS_PATH: is required',
      'PREVIEW_SECRETS_KEY_ID: is required',
      'PREVIEW_REDACTIONS_TABLE: is required',
    ]);
  });

  it('names every malformed variable and says what it must be', () => {
    expect(
      problemsOf({
        ...ecsEnvironment,
        PREVIEW_ECS_SUBNETS: 'subnet-0a1b2c3d,vpc-123',
        PREVIEW_ECS_SECURITY_GROUP: 'default',
        PREVIEW_ECS_TASK_ROLE_ARN: 'preview-task',
        PREVIEW_ECS_CPU_ARCHITECTURE: 'arm',
        AWS_REGION: 'Ireland',
        PREVIEW_ECR_REPOSITORY_URI: 'preview-app',
      }),
    ).toEqual([
      'PREVIEW_ECS_SUBNETS: must be a comma-separated list of subnet ids',
      'PREVIEW_ECS_SECURITY_GROUP: must be a security group id',
      'PREVIEW_ECS_TASK_ROLE_ARN: must be an IAM role ARN',
      expect.stringMatching(/^PREVIEW_ECS_CPU_ARCHITECTURE: .*"X86_64"\|"ARM64"/),
      'AWS_REGION: must be a region such as eu-west-1',
      'PREVIEW_ECR_REPOSITORY_URI: must be a repository URI such as <registry>/<name>',
    ]);
  });

  it('says it all in the error message', () => {
    expect(() => loadEcsSettings({ ...ecsEnvironment, PREVIEW_ECS_CLUSTER: '' })).toThrow(
      /Invalid configuration:\n {2}- PREVIEW_ECS_CLUSTER: is required/,
    );
  });
});
