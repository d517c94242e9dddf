import { z } from 'zod';
import { ConfigError } from '../../core/config.js';

/** Where previews run and build in AWS: the stack's resources, handed to the functions as environment. */

const required = 'is required';
const roleArn = z
  .string(required)
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN');

const settingsSchema = z.object({
  PREVIEW_ECS_CLUSTER: z.string(required).min(1, required),
  PREVIEW_ECS_SUBNETS: z
    .string(required)
    .transform((value) => value.split(',').map((subnet) => subnet.trim()))
    .pipe(
      z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a comma-separated list of subnet ids')).min(1),
    ),
  PREVIEW_ECS_SECURITY_GROUP: z.string(required).regex(/^sg-[0-9a-f]+$/, 'must be a security group id'),
  PREVIEW_ECS_EXECUTION_ROLE_ARN: roleArn,
  PREVIEW_ECS_TASK_ROLE_ARN: roleArn,
  /** The preview images are built on CodeBuild's x86 hosts; ARM64 needs an ARM build project. */
  PREVIEW_ECS_CPU_ARCHITECTURE: z.enum(['X86_64', 'ARM64']).default('X86_64'),
  PREVIEW_LOG_GROUP: z.string(required).min(1, required),
  AWS_REGION: z.string(required).regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region such as eu-west-1'),
  PREVIEW_ECR_REPOSITORY_URI: z
    .string(required)
    .regex(/^[^/\s]+\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, 'must be a repository URI such as <registry>/<name>'),
  PREVIEW_CODEBUILD_PROJECT: z.string(required).min(2, required),
  PREVIEW_BUILD_BUCKET: z.string(required).min(3, required),
  PREVIEW_BUILD_PREFIX: z.string().default('build-sources/'),
  /** SSM path of the previews' secrets: `<path>/<preview id>/<variable>`. */
  PREVIEW_SECRETS_PATH: z
    .string(required)
    .regex(/^(\/[\w.-]+)+$/, 'must be an SSM parameter path such as /preview-service/dev/secrets'),
  /** The KMS key the SecureString parameters are encrypted with. */
  PREVIEW_SECRETS_KEY_ID: z.string(required).min(1, required),
  /** Where each preview's redaction list is kept for as long as its logs. */
  PREVIEW_REDACTIONS_TABLE: z.string(required).min(3, required),
});

export interface EcsSettings {
  readonly cluster: string;
  readonly subnets: readonly string[];
  readonly securityGroup: string;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
  readonly logGroup: string;
  readonly region: string;
  /** `<registry>/<repository>`: image references are this plus `:<content hash>`. */
  readonly repositoryUri: string;
  readonly codeBuildProject: string;
  /** Where build sources are uploaded for CodeBuild: `<bucket>/<prefix><content hash>.zip`. */
  readonly buildBucket: string;
  readonly buildPrefix: string;
  readonly secretsPath: string;
  readonly secretsKeyId: string;
  readonly redactionsTable: string;
}

/** Reads the ECS, ECR and CodeBuild settings; the error names every missing or malformed variable. */
export function ecsSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): EcsSettings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    cluster: e.PREVIEW_ECS_CLUSTER,
    subnets: e.PREVIEW_ECS_SUBNETS,
    securityGroup: e.PREVIEW_ECS_SECURITY_GROUP,
    executionRoleArn: e.PREVIEW_ECS_EXECUTION_ROLE_ARN,
    taskRoleArn: e.PREVIEW_ECS_TASK_ROLE_ARN,
    cpuArchitecture: e.PREVIEW_ECS_CPU_ARCHITECTURE,
    logGroup: e.PREVIEW_LOG_GROUP,
    region: e.AWS_REGION,
    repositoryUri: e.PREVIEW_ECR_REPOSITORY_URI,
    codeBuildProject: e.PREVIEW_CODEBUILD_PROJECT,
    buildBucket: e.PREVIEW_BUILD_BUCKET,
    buildPrefix: e.PREVIEW_BUILD_PREFIX,
    secretsPath: e.PREVIEW_SECRETS_PATH,
    secretsKeyId: e.PREVIEW_SECRETS_KEY_ID,
    redactionsTable: e.PREVIEW_REDACTIONS_TABLE,
  };
}
