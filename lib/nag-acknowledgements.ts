import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type { Project } from 'aws-cdk-lib/aws-codebuild';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag names each wildcard finding after the resource as it appears in the template, with references
 * flattened (`{"Fn::GetAtt": ["Bucket1", "Arn"]}` → `<Bucket1.Arn>`, `{"Ref": "X"}` → `<X>`). These helpers
 * build that name from the ARN used in the policy, so an acknowledgement names exactly one resource.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flatten(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
}

export function acknowledgeWildcardAction(scope: IConstruct, action: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
}

/**
 * What every CodeBuild project that pushes to ECR is granted by the CDK or needs for `docker login`,
 * none of which can name a narrower resource.
 */
export function acknowledgeCodeBuildDefaults(project: Project): void {
  const stack = Stack.of(project);
  Validations.of(project).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken (docker login) supports no resource-level permissions.',
  });
  acknowledgeWildcardResource(
    project,
    stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `/aws/codebuild/${project.projectName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    "CodeBuild's default log group statement, added by the CDK for every project; its streams are named per build.",
  );
  acknowledgeWildcardResource(
    project,
    stack.formatArn({
      service: 'codebuild',
      resource: 'report-group',
      resourceName: `${project.projectName}-*`,
    }),
    'Test report groups of this project, added by the CDK for every project; the buildspec creates none.',
  );
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const object = node as Record<string, unknown>;
  if (Array.isArray(object['Fn::Join'])) {
    const [delimiter, items] = object['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (object['Fn::Sub'] !== undefined) return flatten(object['Fn::Sub']);
  if (Array.isArray(object['Fn::GetAtt'])) {
    const [resource, attribute] = object['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (object.Ref !== undefined) return `<${flatten(object.Ref)}>`;
  return JSON.stringify(node);
}
