import { readFileSync } from 'node:fs';
import { loadEcsSettings } from '#core/config.js';
import { generationSchema, type Generation } from '#core/generation.js';

/** What the stack hands the functions; the values are made up but well-formed. */
export const ecsEnvironment = {
  PREVIEW_ECS_CLUSTER: 'previews',
  PREVIEW_ECS_SUBNETS: 'subnet-0a1b2c3d, subnet-4e5f6a7b',
  PREVIEW_ECS_SECURITY_GROUP: 'sg-0123456789abcdef0',
  PREVIEW_ECS_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/preview-execution',
  PREVIEW_ECS_TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/preview-task',
  PREVIEW_LOG_GROUP: '/preview/test',
  AWS_REGION: 'eu-west-1',
  PREVIEW_ECR_REPOSITORY_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app',
  PREVIEW_CODEBUILD_PROJECT: 'preview-image-build',
  PREVIEW_BUILD_BUCKET: 'preview-build-sources',
  PREVIEW_SECRETS_PATH: '/preview-service/test/secrets',
  PREVIEW_SECRETS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  PREVIEW_REDACTIONS_TABLE: 'preview-redactions',
};

export const settings = loadEcsSettings(ecsEnvironment);

/** A response from `test/fixtures/aws`, with timestamps as the SDK returns them (Dates). */
export function awsFixture<T>(name: string): T {
  const text = readFileSync(new URL(`../../fixtures/aws/${name}.json`, import.meta.url), 'utf8');
  return JSON.parse(text, (key, value: unknown) =>
    /(At|Time)$/.test(key) && typeof value === 'number' ? new Date(value * 1000) : value,
  ) as T;
}

export function exampleGeneration(id: string, changes: Partial<Generation> = {}): Generation {
  const path = new URL(`../../../examples/generations/${id}/generation.json`, import.meta.url);
  return { ...generationSchema.parse(JSON.parse(readFileSync(path, 'utf8'))), ...changes };
}
