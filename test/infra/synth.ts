import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PreviewServiceStack, stackName } from '#lib/preview-service-stack.js';
import { projectRoot } from '#lib/service-function.js';
import { stageConfigFromContext } from '#lib/stage-config.js';

/** Helpers shared by the infrastructure tests: synthesizing the stack the way `bin/` does. */

export interface CfnResourceJson {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string[];
  Metadata?: Record<string, unknown>;
}

export const jwtContext = {
  jwtJwksUrl: 'https://id.example.com/.well-known/jwks.json',
  jwtIssuer: 'https://id.example.com/',
  jwtAudience: 'preview-service',
};

export const devContext = {
  stage: 'dev',
  ...jwtContext,
  allowedOrigin: 'https://app.example.com',
  tiers: { free: { memory: 512 } },
  logRetentionDays: 14,
};

/** The feature flags of cdk.json: the CLI applies them, so the tests must too. */
export function featureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return Object.fromEntries(Object.entries(cdkJson.context).filter(([key]) => key.startsWith('@aws-cdk')));
}

const temporaryDirectories: string[] = [];

/** Removes what the helpers created; call from `afterAll`. */
export function cleanUp(): void {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
}

function temporaryDirectory(prefix: string): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirectories.push(directory);
  return directory;
}

export interface SynthOptions {
  /** Run esbuild for every function (slow); otherwise assets are left unbundled. */
  readonly bundle?: boolean;
}

/** Synthesizes the stack the way `bin/preview-service.ts` does, from CDK context. */
export function synthesize(context: Record<string, unknown>, options: SynthOptions = {}) {
  const outdir = temporaryDirectory('preview-service-cdk-');
  const app = new App({
    outdir,
    // The CDK's CloudFormation template validation costs seconds per synth; `cdk synth` (CI) runs it.
    builtinCloudFormationValidation: false,
    context: {
      ...featureFlags(),
      ...context,
      // An empty list skips asset bundling: enough for checks that do not look at the bundles.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const config = stageConfigFromContext((key) => app.node.tryGetContext(key));
  const stack = new PreviewServiceStack(app, stackName(config.stage), { config });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResourceJson>;
  return { app, stack, template, resources };
}

export type Synth = ReturnType<typeof synthesize>;

export function logicalId(
  stack: PreviewServiceStack,
  construct: { node: { defaultChild?: unknown } },
): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

export function ofType(
  resources: Record<string, CfnResourceJson>,
  type: string,
): [string, CfnResourceJson][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** The statements of every policy attached to a role (by the role's logical id). */
export function roleStatements(
  resources: Record<string, CfnResourceJson>,
  roleId: string,
): PolicyStatementJson[] {
  return ofType(resources, 'AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap(
      ([, policy]) => (policy.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: PolicyStatementJson): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The full path of an API Gateway resource, from its `ParentId` chain up to the root. */
export function resourcePath(resources: Record<string, CfnResourceJson>, resourceId: unknown): string {
  const ref = (resourceId as { Ref?: string }).Ref;
  if (ref === undefined) return ''; // Fn::GetAtt RootResourceId
  const properties = resources[ref]?.Properties as { ParentId: unknown; PathPart: string };
  return `${resourcePath(resources, properties.ParentId)}/${properties.PathPart}`;
}
