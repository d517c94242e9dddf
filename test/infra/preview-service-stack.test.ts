import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgements, nagFindings } from './checks.js';
import { imageBuildspec } from '#adapters/aws/codebuild-image-builder.js';
import { snapshotBuildspec } from '#adapters/aws/database-snapshot-build.js';
import { tableDefinitions } from '#adapters/aws/table-definitions.js';
import { routes } from '#handlers/http/routes.js';
import { webSocketRoutes } from '#handlers/websocket/routes.js';
import { gatewayErrors } from '#lib/gateway-responses.js';
import type { FunctionAccess } from '#handlers/registry.js';
import { stackFunctions } from '#lib/stack-functions.js';
import { corsAllowedHeaders } from '#handlers/middleware/cors-headers.js';
import { serviceMetrics } from '#lib/service-metrics.js';
import {
  actionsOf,
  cleanUp,
  devContext,
  jwtContext,
  logicalId,
  ofType,
  resourcePath,
  resourcesOf,
  roleStatements,
  synthesize,
  type CfnResourceJson,
  type PolicyStatementJson,
  type Synth,
} from './synth.js';

/**
 * Every property of the stage that matters, on a synth of the repository's stack (bundling skipped),
 * its inventory and who may invoke each function, then the same template against cdk-nag.
 */

let synth: Synth;
beforeAll(() => {
  synth = synthesize(devContext);
}, 60_000);
afterAll(cleanUp);

const accessOf = (name: string): FunctionAccess =>
  stackFunctions().find((entry) => entry.name === name)?.access ?? {};
const allFunctionNames = () => [...synth.stack.functions.keys()];

function fnResource(name: string): CfnResourceJson {
  const fn = synth.stack.functions.get(name);
  if (!fn) throw new Error(`no function ${name}`);
  return synth.resources[logicalId(synth.stack, fn.function)] as CfnResourceJson;
}
function fnId(name: string): string {
  return logicalId(synth.stack, synth.stack.functions.get(name)!.function);
}
function environmentOf(name: string): Record<string, unknown> {
  return (fnResource(name).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
}
function statementsOf(name: string): PolicyStatementJson[] {
  return roleStatements(synth.resources, logicalId(synth.stack, synth.stack.functions.get(name)!.role));
}
function ref(construct: { node: { defaultChild?: unknown } }) {
  return { Ref: logicalId(synth.stack, construct) };
}
function arnOf(construct: { node: { defaultChild?: unknown } }) {
  return { 'Fn::GetAtt': [logicalId(synth.stack, construct), 'Arn'] };
}
const json = (value: unknown) => JSON.stringify(value);

describe('data', () => {
  it.each(tableDefinitions.map((definition) => [definition.name, definition] as const))(
    '%s table: on demand, point-in-time recovery, encrypted, its TTL and the indexes the code queries',
    (name, definition) => {
      const table = synth.resources[logicalId(synth.stack, synth.stack.tables.table(name))];
      const properties = table?.Properties ?? {};
      expect(properties.KeySchema).toEqual([
        { AttributeName: definition.partitionKey, KeyType: 'HASH' },
        ...(definition.sortKey ? [{ AttributeName: definition.sortKey, KeyType: 'RANGE' }] : []),
      ]);
      const indexes = (properties.GlobalSecondaryIndexes as { IndexName: string }[] | undefined) ?? [];
      expect(indexes.map((index) => index.IndexName)).toEqual(definition.indexes.map((index) => index.name));
      expect(properties.TimeToLiveSpecification).toEqual(
        definition.ttlAttribute ? { AttributeName: definition.ttlAttribute, Enabled: true } : undefined,
      );
      expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table?.DeletionPolicy).toBe('Delete');
    },
  );

  it('buckets block public access, take TLS only, are encrypted and access-logged', () => {
    const buckets = ofType(synth.resources, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(4);
    const accessLogs = logicalId(
      synth.stack,
      synth.stack.node.findChild('AccessLogs').node.findChild('Bucket'),
    );
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
      if (id !== accessLogs) {
        expect(bucket.Properties?.LoggingConfiguration).toMatchObject({
          DestinationBucketName: { Ref: accessLogs },
        });
      }
      const policy = ofType(synth.resources, 'AWS::S3::BucketPolicy').find(
        ([, p]) => json(p.Properties?.Bucket) === json({ Ref: id }),
      );
      const statements = (policy?.[1].Properties?.PolicyDocument as { Statement: PolicyStatementJson[] })
        .Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('exports and build sources expire after 7 days; generations are kept', () => {
    const rules = (bucket: { bucket: unknown }) =>
      (
        synth.resources[logicalId(synth.stack, bucket.bucket as never)]?.Properties
          ?.LifecycleConfiguration as {
          Rules: Record<string, unknown>[];
        }
      ).Rules;
    expect(rules(synth.stack.buckets.exports)).toContainEqual(
      expect.objectContaining({ Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' }),
    );
    expect(rules(synth.stack.buckets.buildSources)).toContainEqual(
      expect.objectContaining({ ExpirationInDays: 7, Status: 'Enabled' }),
    );
    expect(json(rules(synth.stack.buckets.generations))).not.toContain('ExpirationInDays');
  });

  it('the ECR repository scans on push and expires untagged and old images', () => {
    synth.template.hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      EmptyOnDelete: true,
    });
    const policy = JSON.parse(
      String(
        (
          ofType(synth.resources, 'AWS::ECR::Repository')[0]?.[1].Properties?.LifecyclePolicy as {
            LifecyclePolicyText: string;
          }
        ).LifecyclePolicyText,
      ),
    ) as { rules: { selection: Record<string, unknown> }[] };
    expect(policy.rules.map((rule) => rule.selection)).toEqual([
      expect.objectContaining({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1 }),
      expect.objectContaining({ tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 30 }),
    ]);
  });

  it('database images come through a pull-through cache of ECR Public named after the stage', () => {
    synth.template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', {
      EcrRepositoryPrefix: 'preview-dev',
      UpstreamRegistryUrl: 'public.ecr.aws',
    });
    expect(json(environmentOf('start-preview').PREVIEW_DATABASE_IMAGE_POSTGRESQL)).toContain(
      '/preview-dev/docker/library/postgres:15',
    );
  });

  it('the CodeBuild project builds privileged with the image builder buildspec, outside the VPC', () => {
    const project = ofType(synth.resources, 'AWS::CodeBuild::Project')[0]?.[1].Properties ?? {};
    expect(project.Environment).toMatchObject({ PrivilegedMode: true, Type: 'LINUX_CONTAINER' });
    expect(JSON.parse((project.Source as { BuildSpec: string }).BuildSpec)).toEqual(imageBuildspec);
    expect(project.Source).toMatchObject({ Type: 'NO_SOURCE' });
    expect(project.VpcConfig).toBeUndefined();
    // Queued plus building fits within start-preview's 15 minutes.
    expect(project).toMatchObject({ QueuedTimeoutInMinutes: 5, TimeoutInMinutes: 9 });
    const role = (project.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statements = roleStatements(synth.resources, role);
    const push = statements.find((s) => actionsOf(s).includes('ecr:PutImage'));
    expect(resourcesOf(push!)).toEqual([arnOf(synth.stack.images.repository)]);
    const read = statements.find((s) => actionsOf(s).includes('s3:GetObject'));
    expect(json(read?.Resource)).toContain('/build-sources/*');
  });
});

describe('database snapshots', () => {
  const snapshotProject = () => {
    const found = ofType(synth.resources, 'AWS::CodeBuild::Project').find(
      ([, project]) =>
        json(JSON.parse((project.Properties?.Source as { BuildSpec: string }).BuildSpec)) ===
        json(snapshotBuildspec),
    );
    if (!found) throw new Error('no project builds database snapshots');
    return found;
  };
  const snapshotRole = () => {
    const properties = snapshotProject()[1].Properties ?? {};
    return (properties.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  };

  it('a CodeBuild project of their own builds them privileged with the snapshot buildspec, outside the VPC', () => {
    const project = snapshotProject()[1].Properties ?? {};
    expect(project.Environment).toMatchObject({ PrivilegedMode: true, Type: 'LINUX_CONTAINER' });
    expect(project.Source).toMatchObject({ Type: 'NO_SOURCE' });
    expect(project.VpcConfig).toBeUndefined();
    // Queued plus building fits within what start-preview has left after the launch it follows.
    expect(project).toMatchObject({ QueuedTimeoutInMinutes: 5, TimeoutInMinutes: 8 });
  });

  it("the project's role reads snapshot plans, reads and deletes snapshot parameters only, pulls the cache, pushes to the preview repository", () => {
    const statements = roleStatements(synth.resources, snapshotRole());
    const find = (action: string) => statements.filter((s) => actionsOf(s).includes(action));
    expect(find('ecr:PutImage').map(resourcesOf)).toEqual([[arnOf(synth.stack.images.repository)]]);
    expect(json(find('s3:GetObject').map((s) => s.Resource))).toContain('/build-sources/db-snapshot-*');
    expect(json(find('s3:GetObject'))).not.toContain('/build-sources/*');
    const parameters = find('ssm:GetParameters');
    expect(parameters).toHaveLength(1);
    expect(json(parameters[0]?.Resource)).toContain(':parameter/preview-service/dev/secrets/db-snapshot-*');
    expect(actionsOf(parameters[0]!).sort()).toEqual(['ssm:DeleteParameters', 'ssm:GetParameters']);
    expect(json(statements)).not.toContain('ssm:PutParameter');
    const cache = find('ecr:BatchImportUpstreamImage');
    expect(json(cache.map((s) => s.Resource))).toContain(
      `:repository/${synth.stack.images.publicImagePrefix}/*`,
    );
    expect(json(find('kms:Decrypt').map((s) => s.Resource))).toContain(
      logicalId(synth.stack, synth.stack.secrets.key),
    );
    // Nothing beyond the registry login and the project's own logs and reports is granted on '*'.
    const anyResource = statements.filter((s) => json(s.Resource) === '"*"');
    expect(anyResource.flatMap(actionsOf)).toEqual(['ecr:GetAuthorizationToken']);
  });

  it('start-preview alone starts snapshot builds and deletes snapshot images', () => {
    const project = arnOf(synth.stack.databaseSnapshots.project);
    const starters = allFunctionNames().filter((name) =>
      statementsOf(name).some((s) => json(s.Resource).includes(json(project))),
    );
    expect(starters).toEqual(['start-preview']);
    const start = statementsOf('start-preview').find((s) => json(s.Resource).includes(json(project)));
    expect(actionsOf(start!).sort()).toEqual(['codebuild:BatchGetBuilds', 'codebuild:StartBuild']);
    // One statement with the image project's grant of the same actions.
    expect(resourcesOf(start!)).toEqual([project, arnOf(synth.stack.images.project)]);
    const deleters = allFunctionNames().filter((name) =>
      statementsOf(name).some((s) => actionsOf(s).includes('ecr:BatchDeleteImage')),
    );
    expect(deleters).toEqual(['start-preview']);
    const remove = statementsOf('start-preview').find((s) => actionsOf(s).includes('ecr:BatchDeleteImage'));
    expect(resourcesOf(remove!)).toEqual([arnOf(synth.stack.images.repository)]);
  });

  it('are on for every function unless the stage turns them off', () => {
    for (const name of allFunctionNames())
      expect(environmentOf(name).PREVIEW_DB_SNAPSHOTS, name).toBe('true');
  });

  it('launching functions find snapshots and database image digests; the config route lists snapshots', () => {
    const repository = arnOf(synth.stack.images.repository);
    for (const name of allFunctionNames()) {
      const describe = statementsOf(name).filter((s) => actionsOf(s).includes('ecr:DescribeImages'));
      const access = accessOf(name);
      if (access.runtime === 'run') {
        expect(describe.flatMap(resourcesOf), name).toEqual([
          repository,
          synth.stack.resolve(synth.stack.databaseSnapshots.cacheRepositoryArns),
        ]);
        expect(environmentOf(name), name).toMatchObject({
          PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: expect.anything(),
          PREVIEW_DB_SNAPSHOT_PROJECT: ref(synth.stack.databaseSnapshots.project),
        });
      } else if (access.listsDatabaseSnapshots) {
        expect(describe.flatMap(resourcesOf), name).toEqual([repository]);
        expect(environmentOf(name).PREVIEW_DB_SNAPSHOT_REPOSITORY_URI, name).toBeDefined();
        expect(environmentOf(name).PREVIEW_DB_SNAPSHOT_PROJECT, name).toBeUndefined();
      } else {
        expect(describe, name).toEqual([]);
      }
    }
    expect(allFunctionNames().filter((name) => accessOf(name).listsDatabaseSnapshots)).toEqual([
      'get-preview-config',
    ]);
  });
});

describe('network', () => {
  it('has public subnets for NAT only, function subnets with egress and isolated preview subnets', () => {
    const subnets = ofType(synth.resources, 'AWS::EC2::Subnet').map(([, subnet]) => subnet.Properties ?? {});
    const kinds = subnets.map(
      (subnet) => json(subnet.Tags).match(/"aws-cdk:subnet-name","Value":"(\w+)"/)?.[1],
    );
    expect(kinds.sort()).toEqual(['Functions', 'Functions', 'Previews', 'Previews', 'Public', 'Public']);
    for (const subnet of subnets) expect(subnet.MapPublicIpOnLaunch ?? false).toBe(false);
    synth.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    // The preview subnets' route tables have no default route: no NAT, no internet gateway.
    const previewSubnetIds = synth.stack.network.vpc
      .selectSubnets(synth.stack.network.previewSubnets)
      .subnets.map((subnet) => subnet.routeTable.routeTableId);
    for (const routeTableId of previewSubnetIds) {
      const resolved = synth.stack.resolve(routeTableId) as { Ref: string };
      const routes = ofType(synth.resources, 'AWS::EC2::Route').filter(
        ([, route]) => json(route.Properties?.RouteTableId) === json(resolved),
      );
      expect(routes).toEqual([]);
    }
  });

  it('has an S3 gateway endpoint on both private subnet groups and a DynamoDB one for the functions only, both narrowed', () => {
    const gateways = ofType(synth.resources, 'AWS::EC2::VPCEndpoint').filter(
      ([, endpoint]) => endpoint.Properties?.VpcEndpointType === 'Gateway',
    );
    expect(gateways.map(([, endpoint]) => json(endpoint.Properties?.ServiceName))).toEqual([
      expect.stringContaining('.s3'),
      expect.stringContaining('.dynamodb'),
    ]);
    const [s3, dynamoDb] = gateways.map(([, endpoint]) => endpoint.Properties ?? {});
    expect(s3?.RouteTableIds).toHaveLength(4);
    // Preview tasks have no route to DynamoDB at all.
    const functionRouteTables = synth.stack.network.vpc
      .selectSubnets(synth.stack.network.functionSubnets)
      .subnets.map((subnet) => synth.stack.resolve(subnet.routeTable.routeTableId) as unknown);
    expect(dynamoDb?.RouteTableIds).toEqual(functionRouteTables);
    const s3Policy = json(s3?.PolicyDocument);
    expect(s3Policy).toContain('-starport-layer-bucket/*');
    expect(s3Policy).toContain(logicalId(synth.stack, synth.stack.buckets.generations.bucket));
    expect(s3Policy).not.toContain('"Resource":"*"');
    const dynamoDbPolicy = dynamoDb?.PolicyDocument as { Statement: PolicyStatementJson[] };
    const tableIds = [
      ...synth.stack.tables.entries().map(({ table }) => logicalId(synth.stack, table)),
      logicalId(synth.stack, synth.stack.secrets.redactions),
    ];
    expect(dynamoDbPolicy.Statement).toHaveLength(1);
    expect(json(dynamoDbPolicy.Statement[0]?.Resource)).not.toContain('"*"');
    for (const id of tableIds) expect(json(dynamoDbPolicy.Statement[0]?.Resource)).toContain(id);
  });

  it("admits only this stack's repositories, log group and secret parameters through the interface endpoints", () => {
    const policyOf = (id: 'EcrApi' | 'EcrDocker' | 'Logs' | 'Ssm') => {
      const endpoint = synth.stack.network.interfaceEndpoints.get(id)!;
      const properties = synth.resources[logicalId(synth.stack, endpoint)]?.Properties ?? {};
      return (properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement;
    };
    const repository = logicalId(synth.stack, synth.stack.images.repository);
    for (const id of ['EcrApi', 'EcrDocker'] as const) {
      const statements = policyOf(id);
      expect(statements.map((statement) => (statement as { Sid?: string }).Sid)).toEqual([
        'PullPreviewImages',
        'FillPullThroughCache',
        'RegistryLogin',
        // The API endpoint also takes the launching functions' image lookups and snapshot evictions.
        ...(id === 'EcrApi' ? ['FindServiceImages', 'EvictSnapshots'] : []),
      ]);
      expect(json(statements[0]?.Resource)).toContain(repository);
      expect(json(statements[0]?.Resource)).toContain(
        `:repository/${synth.stack.images.publicImagePrefix}/*`,
      );
      expect(statements[2]).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    }
    const [, , , lookups, evictions] = policyOf('EcrApi');
    expect(lookups).toMatchObject({ Action: 'ecr:DescribeImages' });
    expect(json(lookups?.Resource)).toContain(repository);
    expect(json(lookups?.Resource)).toContain(`:repository/${synth.stack.images.publicImagePrefix}/*`);
    expect(evictions).toMatchObject({
      Action: 'ecr:BatchDeleteImage',
      Resource: { 'Fn::GetAtt': [repository, 'Arn'] },
    });
    expect(policyOf('Logs')).toEqual([
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(synth.stack, synth.stack.previews.logGroup), 'Arn'] },
      }),
    ]);
    expect(policyOf('Ssm')).toEqual([
      expect.objectContaining({
        Action: 'ssm:GetParameters',
        Resource: synth.stack.resolve(synth.stack.secrets.parameterArns()),
      }),
      // Launches write and stops delete the parameters through it too.
      expect.objectContaining({
        Action: ['ssm:DeleteParameters', 'ssm:GetParametersByPath', 'ssm:PutParameter'],
        Resource: synth.stack.resolve(synth.stack.secrets.parameterArns()),
      }),
    ]);
    expect(json(policyOf('Ssm'))).toContain(':parameter/preview-service/dev/secrets/*');
  });

  it('has ECR, CloudWatch Logs and SSM interface endpoints in the preview subnets, open to the two groups only', () => {
    const interfaces = ofType(synth.resources, 'AWS::EC2::VPCEndpoint').filter(
      ([, endpoint]) => endpoint.Properties?.VpcEndpointType === 'Interface',
    );
    expect(interfaces.map(([, endpoint]) => json(endpoint.Properties?.ServiceName))).toEqual([
      expect.stringContaining('ecr.api'),
      expect.stringContaining('ecr.dkr'),
      expect.stringContaining('logs'),
      expect.stringContaining('ssm'),
    ]);
    const { previewSecurityGroup, proxySecurityGroup } = synth.stack.network;
    const groups = [previewSecurityGroup, proxySecurityGroup].map((group) => ({
      'Fn::GetAtt': [logicalId(synth.stack, group), 'GroupId'],
    }));
    for (const [, endpoint] of interfaces) {
      expect(endpoint.Properties?.PrivateDnsEnabled).toBe(true);
      const endpointGroup = (endpoint.Properties?.SecurityGroupIds as { 'Fn::GetAtt': string[] }[])[0]!;
      const ingress = ofType(synth.resources, 'AWS::EC2::SecurityGroupIngress')
        .map(([, rule]) => rule.Properties ?? {})
        .filter((rule) => json(rule.GroupId) === json(endpointGroup));
      expect(ingress.map((rule) => [rule.SourceSecurityGroupId, rule.FromPort, rule.ToPort])).toEqual(
        groups.map((group) => [group, 443, 443]),
      );
      const inline = synth.resources[endpointGroup['Fn::GetAtt'][0]!]?.Properties?.SecurityGroupIngress;
      expect(inline).toBeUndefined();
    }
  });

  it('the preview security group accepts traffic from the proxy functions only, and sends HTTPS to the endpoints only', () => {
    const preview = synth.stack.network.previewSecurityGroup;
    const previewGroupId = { 'Fn::GetAtt': [logicalId(synth.stack, preview), 'GroupId'] };
    const proxyGroupId = {
      'Fn::GetAtt': [logicalId(synth.stack, synth.stack.network.proxySecurityGroup), 'GroupId'],
    };
    const properties = synth.resources[logicalId(synth.stack, preview)]?.Properties ?? {};
    expect(properties.SecurityGroupIngress).toBeUndefined();
    expect(properties.SecurityGroupEgress).toBeUndefined();
    const endpointGroupId = {
      'Fn::GetAtt': [logicalId(synth.stack, synth.stack.network.endpointSecurityGroup), 'GroupId'],
    };
    const egress = ofType(synth.resources, 'AWS::EC2::SecurityGroupEgress')
      .map(([, rule]) => rule.Properties ?? {})
      .filter((rule) => json(rule.GroupId) === json(previewGroupId));
    expect(egress).toEqual([
      expect.objectContaining({
        DestinationSecurityGroupId: endpointGroupId,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
      }),
      expect.objectContaining({
        // The region's S3 prefix list, looked up at deploy time.
        DestinationPrefixListId: {
          'Fn::GetAtt': [expect.stringMatching(/S3PrefixList/), 'PrefixLists.0.PrefixListId'],
        },
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
      }),
    ]);
    expect(json(synth.resources)).not.toMatch(
      /"CidrIp":"0\.0\.0\.0\/0"[^}]*"GroupId":\{"Fn::GetAtt":\["NetworkPreviewSecurityGroup/,
    );
    const ingress = ofType(synth.resources, 'AWS::EC2::SecurityGroupIngress')
      .map(([, rule]) => rule.Properties ?? {})
      .filter((rule) => json(rule.GroupId) === json(previewGroupId));
    expect(ingress).toEqual([
      expect.objectContaining({
        SourceSecurityGroupId: proxyGroupId,
        IpProtocol: 'tcp',
        FromPort: 0,
        ToPort: 65535,
      }),
    ]);
  });

  it('flow logs record rejected traffic to a log group with the stage retention', () => {
    synth.template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
  });
});

describe('compute', () => {
  it('the cluster has Container Insights (enhanced)', () => {
    synth.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
  });

  it('the preview log group is /preview/<stage> with the stage retention', () => {
    synth.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/preview/dev',
      RetentionInDays: 14,
    });
  });

  it('only ECS, for this account, assumes the task roles; the task role has no permissions', () => {
    const { executionRole, taskRole } = synth.stack.previews;
    for (const role of [executionRole, taskRole]) {
      const trust = synth.resources[logicalId(synth.stack, role)]?.Properties?.AssumeRolePolicyDocument as {
        Statement: PolicyStatementJson[];
      };
      expect(trust.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'ecs-tasks.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': expect.anything() },
          },
        }),
      ]);
      expect(synth.resources[logicalId(synth.stack, role)]?.Properties?.ManagedPolicyArns).toBeUndefined();
    }
    expect(roleStatements(synth.resources, logicalId(synth.stack, taskRole))).toEqual([]);
  });

  it('the execution role pulls preview and cached public images and writes the preview log group', () => {
    const statements = roleStatements(
      synth.resources,
      logicalId(synth.stack, synth.stack.previews.executionRole),
    );
    const pull = statements.find((s) => actionsOf(s).includes('ecr:BatchGetImage'));
    expect(resourcesOf(pull!)).toEqual([
      arnOf(synth.stack.images.repository),
      expect.objectContaining({ 'Fn::Join': expect.anything() }),
    ]);
    expect(json(pull?.Resource)).toContain(':repository/preview-dev/*');
    const logs = statements.find((s) => actionsOf(s).includes('logs:PutLogEvents'));
    expect(resourcesOf(logs!)).toEqual([arnOf(synth.stack.previews.logGroup)]);
    const anyResource = statements.filter((s) => json(s.Resource) === '"*"').flatMap(actionsOf);
    expect(anyResource).toEqual(['ecr:GetAuthorizationToken']);
  });

  it("the execution role fetches the previews' secret parameters and decrypts them with the secrets key only", () => {
    const statements = roleStatements(
      synth.resources,
      logicalId(synth.stack, synth.stack.previews.executionRole),
    );
    const fetch = statements.find((s) => actionsOf(s).includes('ssm:GetParameters'));
    expect(actionsOf(fetch!)).toEqual(['ssm:GetParameters']);
    expect(json(fetch?.Resource)).toContain(':parameter/preview-service/dev/secrets/*');
    const decrypt = statements.find((s) => actionsOf(s).includes('kms:Decrypt'));
    expect(actionsOf(decrypt!)).toEqual(['kms:Decrypt']);
    expect(resourcesOf(decrypt!)).toEqual([arnOf(synth.stack.secrets.key)]);
  });

  it('keeps redaction lists in a table encrypted with the secrets key, expiring by TTL', () => {
    const table = synth.resources[logicalId(synth.stack, synth.stack.secrets.redactions)]?.Properties;
    expect(table).toMatchObject({
      KeySchema: [{ AttributeName: 'previewId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: arnOf(synth.stack.secrets.key),
      },
      TimeToLiveSpecification: { AttributeName: 'expiresAtEpoch', Enabled: true },
    });
    synth.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('functions', () => {
  it('are every function of the registry, plus the authorizer', () => {
    const handlers = new Set(stackFunctions().map((e) => e.name));
    expect(new Set(allFunctionNames())).toEqual(handlers);
    // More for CDK's custom resources: the VPC's default security group lock-down, the S3 prefix list
    // lookup.
    expect(ofType(synth.resources, 'AWS::Lambda::Function')).toHaveLength(handlers.size + 3);
  });

  it('are Node 22 on arm64, traced, with Powertools settings and their own log group and role', () => {
    for (const name of allFunctionNames()) {
      const fn = fnResource(name);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
      expect(environmentOf(name)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'preview-service',
        POWERTOOLS_METRICS_NAMESPACE: serviceMetrics.namespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        PREVIEW_STAGE: 'dev',
        NODE_OPTIONS: '--enable-source-maps',
      });
      const logGroup = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(synth.resources[logGroup]?.Properties?.RetentionInDays).toBe(14);
      const role = (fn.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      // No AWSLambdaBasicExecutionRole: it would allow writing to every log group.
      expect(synth.resources[role]?.Properties?.ManagedPolicyArns).toBeUndefined();
      const logWrite = roleStatements(synth.resources, role).find((s) =>
        actionsOf(s).includes('logs:PutLogEvents'),
      );
      expect(resourcesOf(logWrite!)).toEqual([{ 'Fn::GetAtt': [logGroup, 'Arn'] }]);
    }
  });

  it('get the service environment: tables, URLs, generations (owned only), tiers, origin, log retention', () => {
    for (const name of allFunctionNames()) {
      const environment = environmentOf(name);
      for (const definition of tableDefinitions) {
        expect(environment[definition.envVar]).toEqual(ref(synth.stack.tables.table(definition.name)));
      }
      expect(environment).toMatchObject({
        PREVIEW_GENERATIONS_BUCKET: ref(synth.stack.buckets.generations.bucket),
        PREVIEW_GENERATIONS_PREFIX: 'generations/',
        PREVIEW_RESOURCE_TIER_FREE: '{"memory":512}',
        PREVIEW_ALLOWED_ORIGIN: 'https://app.example.com',
        PREVIEW_LOG_RETENTION_DAYS: '14',
        PREVIEW_LAUNCH_TIMEOUT_SECONDS: '900',
        PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'false',
      });
      expect(json(environment.PREVIEW_PUBLIC_URL)).toContain('/dev"');
      expect(json(environment.PREVIEW_WEBSOCKET_URL)).toContain('"wss://"');
    }
  });

  it('route functions answer within API Gateway, and the long-running ones get longer', () => {
    for (const route of routes) expect(fnResource(route.handler).Properties?.Timeout).toBe(29);
    expect(fnResource('start-preview').Properties?.Timeout).toBe(900);
  });

  it('run in the private function subnets with the proxy security group exactly when they reach tasks', () => {
    const inVpc = allFunctionNames().filter((name) => fnResource(name).Properties?.VpcConfig !== undefined);
    expect(inVpc).toEqual(expect.arrayContaining(['proxy-preview', 'send-test-request', 'list-endpoints']));
    expect(inVpc).toEqual(expect.arrayContaining(['start-preview', 'task-state-change']));
    expect(inVpc.sort()).toEqual(
      allFunctionNames()
        .filter((name) => accessOf(name).reachesTasks)
        .sort(),
    );
    const functionSubnets = synth.stack.resolve(
      synth.stack.network.vpc.selectSubnets(synth.stack.network.functionSubnets).subnetIds,
    );
    for (const name of inVpc) {
      expect(fnResource(name).Properties?.VpcConfig).toEqual({
        SecurityGroupIds: [
          { 'Fn::GetAtt': [logicalId(synth.stack, synth.stack.network.proxySecurityGroup), 'GroupId'] },
        ],
        SubnetIds: functionSubnets,
      });
      // The function is created only after its role may attach it to the VPC.
      const eni = statementsOf(name).find((s) => actionsOf(s).includes('ec2:CreateNetworkInterface'));
      expect(eni).toBeDefined();
      expect(fnResource(name).DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/RoleDefaultPolicy/)]),
      );
    }
  });

  it('the runtime functions get PREVIEW_RUNNER=ecs and every ECS, ECR and CodeBuild setting; no other does', () => {
    const runtimeVariables = [
      'PREVIEW_START_FUNCTION',
      'PREVIEW_ECS_CLUSTER',
      'PREVIEW_ECS_SUBNETS',
      'PREVIEW_ECS_SECURITY_GROUP',
      'PREVIEW_ECS_EXECUTION_ROLE_ARN',
      'PREVIEW_ECS_TASK_ROLE_ARN',
      'PREVIEW_ECS_CPU_ARCHITECTURE',
      'PREVIEW_LOG_GROUP',
      'PREVIEW_ECR_REPOSITORY_URI',
      'PREVIEW_CODEBUILD_PROJECT',
      'PREVIEW_BUILD_BUCKET',
      'PREVIEW_BUILD_PREFIX',
      'PREVIEW_DATABASE_IMAGE_POSTGRESQL',
      'PREVIEW_DATABASE_IMAGE_MONGODB',
    ];
    const withRunner = allFunctionNames().filter((name) => environmentOf(name).PREVIEW_RUNNER === 'ecs');
    expect(withRunner.sort()).toEqual(
      [
        'launch-preview',
        'delete-preview',
        'start-preview',
        'task-state-change',
        'check-health',
        'sweep-previews',
      ].sort(),
    );
    for (const name of withRunner) {
      const environment = environmentOf(name);
      for (const variable of runtimeVariables)
        expect(environment[variable], `${name} ${variable}`).toBeDefined();
      expect(environment).toMatchObject({
        PREVIEW_START_FUNCTION: 'preview-dev-start-preview',
        PREVIEW_ECS_CLUSTER: ref(synth.stack.previews.cluster),
        PREVIEW_ECS_SECURITY_GROUP: {
          'Fn::GetAtt': [logicalId(synth.stack, synth.stack.network.previewSecurityGroup), 'GroupId'],
        },
        PREVIEW_ECS_EXECUTION_ROLE_ARN: arnOf(synth.stack.previews.executionRole),
        PREVIEW_ECS_TASK_ROLE_ARN: arnOf(synth.stack.previews.taskRole),
        PREVIEW_ECS_CPU_ARCHITECTURE: 'X86_64',
        PREVIEW_CODEBUILD_PROJECT: ref(synth.stack.images.project),
        PREVIEW_BUILD_BUCKET: ref(synth.stack.buckets.buildSources.bucket),
        PREVIEW_BUILD_PREFIX: 'build-sources/',
      });
      // Tasks run in the isolated preview subnets.
      expect(environment.PREVIEW_ECS_SUBNETS).toEqual({
        'Fn::Join': [
          ',',
          synth.stack.resolve(
            synth.stack.network.vpc.selectSubnets(synth.stack.network.previewSubnets).subnetIds,
          ),
        ],
      });
    }
  });

  it('start-preview has a fixed name; launch-preview names it and may invoke it, and nothing else may', () => {
    expect(fnResource('start-preview').Properties?.FunctionName).toBe('preview-dev-start-preview');
    const invokers = allFunctionNames().filter((name) =>
      statementsOf(name).some((s) => json(s).includes('function:preview-dev-start-preview')),
    );
    expect(invokers).toEqual(['launch-preview']);
    const invoke = statementsOf('launch-preview').find((s) =>
      json(s).includes('function:preview-dev-start-preview'),
    );
    expect(actionsOf(invoke!)).toEqual(['lambda:InvokeFunction']);
    expect(resourcesOf(invoke!)).toHaveLength(1);
  });

  it('$connect starts replays by invoking log-replay, by its fixed name', () => {
    expect(fnResource('log-replay').Properties?.FunctionName).toBe('preview-dev-log-replay');
    const invokers = allFunctionNames().filter((name) =>
      statementsOf(name).some((s) => json(s).includes('function:preview-dev-log-replay')),
    );
    expect(invokers).toEqual(['ws-connect']);
  });

  it('log-fan-out has a fixed name, which it reads, and it alone may invoke itself (slices of a large audience)', () => {
    expect(fnResource('log-fan-out').Properties?.FunctionName).toBe('preview-dev-log-fan-out');
    expect(environmentOf('log-fan-out').PREVIEW_LOG_FAN_OUT_FUNCTION).toBe('preview-dev-log-fan-out');
    const invokers = allFunctionNames().filter((name) =>
      statementsOf(name).some((s) => json(s).includes('function:preview-dev-log-fan-out')),
    );
    expect(invokers).toEqual(['log-fan-out']);
    const invoke = statementsOf('log-fan-out').find((s) =>
      json(s).includes('function:preview-dev-log-fan-out'),
    );
    expect(actionsOf(invoke!)).toEqual(['lambda:InvokeFunction']);
    // An ARN built from the fixed name: a reference to the function itself would be a circular dependency.
    expect(json(resourcesOf(invoke!))).not.toContain(fnId('log-fan-out'));
    expect(
      allFunctionNames().filter((name) => environmentOf(name).PREVIEW_LOG_FAN_OUT_FUNCTION !== undefined),
    ).toEqual(['log-fan-out']);
  });

  it('every asynchronously invoked function sends failures to the failed-events queue, with bounded retries', () => {
    const configs = ofType(synth.resources, 'AWS::Lambda::EventInvokeConfig');
    const asynchronous = stackFunctions().filter((entry) => entry.retries);
    expect(configs).toHaveLength(asynchronous.length);
    const queueArn = arnOf(synth.stack.failedEvents);
    for (const entry of asynchronous) {
      const config = configs.find(
        ([, c]) => json(c.Properties?.FunctionName) === json({ Ref: fnId(entry.name) }),
      );
      expect(config?.[1].Properties, entry.name).toMatchObject({
        MaximumRetryAttempts: entry.retries?.attempts,
        MaximumEventAgeInSeconds: entry.retries?.maxEventAge.toSeconds(),
        DestinationConfig: { OnFailure: { Destination: queueArn } },
      });
    }
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });
});

describe('least privilege', () => {
  const allStatements = () =>
    allFunctionNames().flatMap((name) => statementsOf(name).map((s) => [name, s] as const));

  it('no function may use a wildcard action', () => {
    for (const [name, statement] of allStatements()) {
      for (const action of actionsOf(statement)) expect(action, name).not.toContain('*');
    }
  });

  it('statements on "*" hold only actions that take no narrower resource', () => {
    const allowed = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
      'ecs:ListTasks',
      'ecs:DescribeTaskDefinition',
      'ecs:RegisterTaskDefinition',
    ]);
    for (const [name, statement] of allStatements()) {
      if (!resourcesOf(statement).includes('*')) continue;
      for (const action of actionsOf(statement)) expect(allowed, `${name}: ${action}`).toContain(action);
      if (actionsOf(statement).includes('ecs:ListTasks')) {
        expect(statement.Condition).toEqual({
          ArnEquals: { 'ecs:cluster': arnOf(synth.stack.previews.cluster) },
        });
      }
      if (actionsOf(statement).includes('ecs:RegisterTaskDefinition')) {
        expect(statement.Condition).toEqual({ StringEquals: { 'aws:RequestTag/preview:managed': 'true' } });
      }
    }
  });

  it('ecs:RunTask is scoped to the preview task families and the preview cluster', () => {
    const runTask = allStatements().filter(([, s]) => actionsOf(s).includes('ecs:RunTask'));
    expect(runTask.map(([name]) => name).sort()).toEqual(
      allFunctionNames()
        .filter((name) => accessOf(name).runtime === 'run')
        .sort(),
    );
    for (const [, statement] of runTask) {
      expect(json(statement.Resource)).toMatch(/:task-definition\/preview-\*"\]\]\}$/);
      expect(statement.Condition).toEqual({
        ArnEquals: { 'ecs:cluster': arnOf(synth.stack.previews.cluster) },
      });
    }
  });

  it('ecs:StopTask is scoped to the tasks of the preview cluster', () => {
    const stop = allStatements().filter(([, s]) => actionsOf(s).includes('ecs:StopTask'));
    expect(stop.map(([name]) => name).sort()).toEqual(
      allFunctionNames()
        .filter((name) => accessOf(name).runtime)
        .sort(),
    );
    const clusterRef = json(ref(synth.stack.previews.cluster));
    for (const [, statement] of stop)
      expect(json(statement.Resource)).toContain(`":task/",${clusterRef},"/*"`);
  });

  it('only launches write preview secrets; every runtime function may find and delete them', () => {
    const parameters = ':parameter/preview-service/dev/secrets/*';
    for (const name of allFunctionNames()) {
      // The maintenance switch is a parameter of its own; only the secrets path is under test here.
      const ssm = statementsOf(name).filter((statement) => json(statement.Resource).includes(parameters));
      const level = accessOf(name).runtime;
      const expected = !level
        ? []
        : [
            'ssm:DeleteParameters',
            'ssm:GetParametersByPath',
            ...(level === 'run' ? ['ssm:PutParameter'] : []),
          ];
      expect(ssm.flatMap(actionsOf).sort(), name).toEqual(expected);
      for (const statement of ssm) expect(json(statement.Resource)).toContain(parameters);
    }
    const anySsm = allStatements().filter(([, s]) => json(s).includes('ssm:') && json(s.Resource) === '"*"');
    expect(anySsm).toEqual([]);
    for (const name of allFunctionNames().filter((n) => accessOf(n).runtime)) {
      expect(environmentOf(name)).toMatchObject({
        PREVIEW_SECRETS_PATH: '/preview-service/dev/secrets',
        PREVIEW_SECRETS_KEY_ID: arnOf(synth.stack.secrets.key),
        PREVIEW_REDACTIONS_TABLE: ref(synth.stack.secrets.redactions),
      });
    }
  });

  it('log readers read redaction lists; launches add to them; nobody else touches them', () => {
    const tableArn = json(arnOf(synth.stack.secrets.redactions));
    const grants = allStatements().filter(([, s]) => json(s.Resource).includes(tableArn));
    for (const [name, statement] of grants) {
      const expected = [
        ...(accessOf(name).previewLogs ? ['dynamodb:GetItem'] : []),
        ...(accessOf(name).runtime === 'run' ? ['dynamodb:UpdateItem'] : []),
      ];
      for (const action of actionsOf(statement)) expect(expected, name).toContain(action);
    }
    expect(new Set(grants.map(([name]) => name))).toEqual(
      new Set(allFunctionNames().filter((n) => accessOf(n).previewLogs || accessOf(n).runtime === 'run')),
    );
  });

  it('iam:PassRole names only the two task roles, and only for ECS tasks', () => {
    const passRole = allStatements().filter(([, s]) => actionsOf(s).includes('iam:PassRole'));
    expect(passRole.length).toBeGreaterThan(0);
    for (const [, statement] of passRole) {
      expect(actionsOf(statement)).toEqual(['iam:PassRole']);
      expect(resourcesOf(statement)).toEqual([
        arnOf(synth.stack.previews.executionRole),
        arnOf(synth.stack.previews.taskRole),
      ]);
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      });
    }
  });

  it('execute-api:ManageConnections covers the WebSocket API stage only', () => {
    const manage = allStatements().filter(([, s]) => actionsOf(s).includes('execute-api:ManageConnections'));
    expect(manage.map(([name]) => name).sort()).toEqual(
      allFunctionNames()
        .filter((name) => accessOf(name).websocket)
        .sort(),
    );
    const apiRef = ref(synth.stack.webSocket!.api);
    for (const [, statement] of manage) {
      expect(actionsOf(statement)).toEqual(['execute-api:ManageConnections']);
      expect(json(statement.Resource)).toContain(`${json(apiRef)},"/dev/*/@connections/*"`);
    }
  });

  it('table access is per function: named tables and indexes, no table management', () => {
    for (const name of allFunctionNames()) {
      const expected = { ...accessOf(name).tables };
      if (accessOf(name).websocket) expected.connections = 'readwrite';
      const dynamo = statementsOf(name).filter((s) => json(s).includes('dynamodb:'));
      for (const definition of tableDefinitions) {
        const tableArn = arnOf(synth.stack.tables.table(definition.name));
        const grants = dynamo.filter((s) => resourcesOf(s).some((r) => json(r) === json(tableArn)));
        const actions = new Set(grants.flatMap(actionsOf));
        const level = expected[definition.name];
        if (level === undefined) expect(grants, `${name} ${definition.name}`).toEqual([]);
        else {
          expect(actions.has('dynamodb:Query'), `${name} ${definition.name}`).toBe(true);
          expect(actions.has('dynamodb:PutItem'), `${name} ${definition.name}`).toBe(level === 'readwrite');
        }
      }
      for (const statement of dynamo) {
        expect(json(statement.Resource)).not.toContain('index/*');
        for (const action of actionsOf(statement))
          expect(action).not.toMatch(/Table$|TimeToLive|Backup|Restore/);
      }
    }
  });

  it('bucket access is per function and per prefix', () => {
    for (const name of allFunctionNames()) {
      const s3 = statementsOf(name).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
      const access = accessOf(name);
      const text = json(s3);
      expect(text.includes('/generations/*'), name).toBe(Boolean(access.generations));
      expect(text.includes('/exports/*'), name).toBe(Boolean(access.exports));
      expect(text.includes('/build-sources/*'), name).toBe(access.runtime === 'run');
    }
  });

  it('the preview log group is read by the log functions only', () => {
    const readers = allFunctionNames().filter((name) =>
      statementsOf(name).some((s) => actionsOf(s).includes('logs:FilterLogEvents')),
    );
    expect(readers.sort()).toEqual(
      allFunctionNames()
        .filter((name) => accessOf(name).previewLogs)
        .sort(),
    );
    for (const name of readers) {
      const read = statementsOf(name).find((s) => actionsOf(s).includes('logs:FilterLogEvents'));
      expect(resourcesOf(read!)).toEqual([arnOf(synth.stack.previews.logGroup)]);
    }
  });

  it('the authorizer gets the JWT settings and no data access', () => {
    const fn = synth.resources[logicalId(synth.stack, synth.stack.restApi.authorizer.function.function)];
    expect((fn?.Properties?.Environment as { Variables: unknown }).Variables).toMatchObject({
      PREVIEW_JWT_JWKS_URL: jwtContext.jwtJwksUrl,
      PREVIEW_JWT_ISSUER: jwtContext.jwtIssuer,
      PREVIEW_JWT_AUDIENCE: jwtContext.jwtAudience,
      // The function refuses tokens with less than the cache's TTL left, so no Allow outlives its token.
      PREVIEW_AUTHORIZER_CACHE_SECONDS: '60',
    });
    const role = logicalId(synth.stack, synth.stack.restApi.authorizer.function.role);
    expect(json(roleStatements(synth.resources, role))).not.toMatch(/dynamodb:|s3:|ecs:/);
  });
});

describe('REST API', () => {
  const authorizerRef = () => ({ Ref: logicalId(synth.stack, synth.stack.restApi.authorizer.authorizer) });

  it('passes every body through as bytes, so binary answers and gzip exports survive', () => {
    const [api] = ofType(synth.resources, 'AWS::ApiGateway::RestApi');
    expect(api?.[1].Properties?.BinaryMediaTypes).toEqual(['*/*']);
  });

  it.each(routes.map((route) => [route.method, route.path, route] as const))(
    '%s %s invokes its handler with the right authorization',
    (_method, routePath, route) => {
      const methods = ofType(synth.resources, 'AWS::ApiGateway::Method').filter(
        ([, method]) =>
          method.Properties?.HttpMethod === route.method &&
          resourcePath(synth.resources, method.Properties?.ResourceId) === routePath,
      );
      expect(methods).toHaveLength(1);
      const properties = methods[0]?.[1].Properties ?? {};
      if (route.authenticated) {
        expect(properties.AuthorizationType).toBe('CUSTOM');
        expect(properties.AuthorizerId).toEqual(authorizerRef());
      } else {
        expect(properties.AuthorizationType).toBe('NONE');
      }
      expect(properties.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(json(properties.Integration)).toContain(json({ 'Fn::GetAtt': [fnId(route.handler), 'Arn'] }));
    },
  );

  it('answers CORS preflights for the SaaS origin only, and every other method is a route', () => {
    const methods = ofType(synth.resources, 'AWS::ApiGateway::Method');
    const preflights = methods.filter(([, method]) => method.Properties?.HttpMethod === 'OPTIONS');
    expect(methods.length - preflights.length).toBe(routes.length);
    for (const [, preflight] of preflights) {
      const integration = json(preflight.Properties?.Integration);
      expect(integration).toContain("'https://app.example.com'");
      expect(integration).toContain(`'${corsAllowedHeaders.join(',')}'`);
      expect(integration).not.toContain("'*'");
    }
    const publicPaths = methods
      .filter(([, m]) => m.Properties?.AuthorizationType === 'NONE' && m.Properties?.HttpMethod !== 'OPTIONS')
      .map(([, m]) => resourcePath(synth.resources, m.Properties?.ResourceId));
    expect(publicPaths.sort()).toEqual(['/api/asyncapi.json', '/api/openapi.json', '/docs/websocket']);
  });

  it('verifies bearer tokens with the authorizer function and caches decisions for a minute', () => {
    synth.template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    synth.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
    });
    const authorizer = ofType(synth.resources, 'AWS::ApiGateway::Authorizer')[0]?.[1].Properties ?? {};
    const pattern = new RegExp(String(authorizer.IdentityValidationExpression));
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
    for (const header of [`Bearer ${jwt}`, `bearer ${jwt}`, `BEARER  ${jwt}`])
      expect(pattern.test(header)).toBe(true);
    expect(pattern.test('Basic dXNlcjpwYXNz')).toBe(false);
  });

  it('the stage is throttled, traced, logs errors without bodies and writes JSON access logs', () => {
    synth.template.resourceCountIs('AWS::ApiGateway::Stage', 1);
    synth.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    const stage = ofType(synth.resources, 'AWS::ApiGateway::Stage')[0]?.[1].Properties ?? {};
    expect(json(stage.AccessLogSetting)).toContain(logicalId(synth.stack, synth.stack.restApi.accessLogs));
    synth.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it("a web ACL of the stack's own limits each Authorization header's requests per minute, answering 429", () => {
    const acls = ofType(synth.resources, 'AWS::WAFv2::WebACL');
    expect(acls).toHaveLength(1);
    const [aclId, aclResource] = acls[0]!;
    const acl = aclResource.Properties ?? {};
    expect(acl).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    expect(acl.Rules).toEqual([
      expect.objectContaining({
        Name: 'PerUserRateLimit',
        Statement: {
          RateBasedStatement: {
            Limit: 300,
            EvaluationWindowSec: 60,
            AggregateKeyType: 'CUSTOM_KEYS',
            CustomKeys: [
              { Header: { Name: 'authorization', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } },
            ],
          },
        },
        Action: {
          Block: {
            CustomResponse: {
              ResponseCode: 429,
              CustomResponseBodyKey: 'rateLimited',
              ResponseHeaders: [{ Name: 'Retry-After', Value: '60' }],
            },
          },
        },
      }),
    ]);
    const body = (acl.CustomResponseBodies as Record<string, { Content: string; ContentType: string }>)
      .rateLimited;
    expect(body?.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body?.Content ?? '{}')).toMatchObject({
      error: { code: 'rate_limited', details: { limit: 300, windowSeconds: 60 } },
    });
    const associations = ofType(synth.resources, 'AWS::WAFv2::WebACLAssociation');
    expect(associations).toHaveLength(1);
    expect(associations[0]?.[1].Properties?.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(json(associations[0]?.[1].Properties?.ResourceArn)).toContain(
      logicalId(synth.stack, synth.stack.restApi.api.deploymentStage),
    );
  });

  it.each(gatewayErrors.map((error) => [error.type.responseType, error] as const))(
    'gateway response %s is in the error shape and readable cross-origin',
    (type) => {
      const response = ofType(synth.resources, 'AWS::ApiGateway::GatewayResponse').find(
        ([, r]) => r.Properties?.ResponseType === type,
      )?.[1];
      const properties = response?.Properties ?? {};
      expect(properties.ResponseParameters).toMatchObject({
        'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'",
      });
      const template = (properties.ResponseTemplates as Record<string, string>)['application/json'] ?? '';
      const body = JSON.parse(template.replace('$context.error.messageString', '"message"'));
      expect(Object.keys(body)).toEqual(['error']);
      expect(template).not.toMatch(/stack/i);
    },
  );
});

describe('WebSocket API', () => {
  it('selects routes by the action in the body', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it.each(webSocketRoutes.map((route) => [route.routeKey, route.handler] as const))(
    'route %s invokes the %s handler',
    (routeKey, handler) => {
      const route = ofType(synth.resources, 'AWS::ApiGatewayV2::Route').find(
        ([, r]) => r.Properties?.RouteKey === routeKey,
      );
      const integrationId = json(route?.[1].Properties?.Target).match(/"Ref":"(\w+)"/)?.[1];
      const integration = synth.resources[integrationId!];
      expect(integration?.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY' });
      expect(json(integration?.Properties?.IntegrationUri)).toContain(fnId(`ws-${handler}`));
    },
  );

  it('the stage is throttled, logs errors only and writes access logs', () => {
    const stage = ofType(synth.resources, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties ?? {};
    expect(stage).toMatchObject({
      StageName: 'dev',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: 500,
        ThrottlingBurstLimit: 1000,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      },
      AccessLogSettings: {
        DestinationArn: expect.anything(),
        Format: expect.stringContaining('connectionId'),
      },
    });
  });

  it('live-stream functions get the management endpoint, the log group, the cluster and the replay function', () => {
    for (const name of allFunctionNames()) {
      const access = accessOf(name);
      const environment = environmentOf(name);
      const live = Boolean(access.websocket || access.previewLogs || access.startsReplays);
      expect(environment.PREVIEW_WEBSOCKET_MANAGEMENT_URL !== undefined, name).toBe(live);
      if (!live) continue;
      expect(json(environment.PREVIEW_WEBSOCKET_MANAGEMENT_URL)).toMatch(/^\{"Fn::Join":\["",\["https:\/\//);
      expect(environment).toMatchObject({
        PREVIEW_LOG_GROUP: ref(synth.stack.previews.logGroup),
        PREVIEW_ECS_CLUSTER: ref(synth.stack.previews.cluster),
        PREVIEW_LOG_REPLAY_FUNCTION: 'preview-dev-log-replay',
      });
    }
  });
});

describe('logs and events', () => {
  it('the preview log group streams every line to the fan-out function', () => {
    synth.template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: ref(synth.stack.previews.logGroup),
      DestinationArn: { 'Fn::GetAtt': [fnId('log-fan-out'), 'Arn'] },
      FilterPattern: '',
    });
  });

  it('ECS task state changes of the preview cluster go to the task-state handler', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { clusterArn: [arnOf(synth.stack.previews.cluster)] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId('task-state-change'), 'Arn'] },
          DeadLetterConfig: { Arn: arnOf(synth.stack.failedEvents) },
          RetryPolicy: { MaximumRetryAttempts: 2 },
        }),
      ],
    });
  });

  it.each([
    ['check-health', 'rate(1 minute)'],
    ['sweep-previews', 'rate(5 minutes)'],
  ])('%s runs on %s', (name, schedule) => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: schedule,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(name), 'Arn'] },
          DeadLetterConfig: { Arn: arnOf(synth.stack.failedEvents) },
        }),
      ],
    });
  });
});

describe('operations', () => {
  const dashboardBody = () =>
    json(ofType(synth.resources, 'AWS::CloudWatch::Dashboard')[0]?.[1].Properties?.DashboardBody);

  it('the dashboard shows every service metric of this stage', () => {
    const body = dashboardBody();
    for (const metric of Object.values(serviceMetrics.metrics)) {
      expect(body).toContain(`\\"${serviceMetrics.namespace}\\",\\"${metric.name}\\"`);
    }
    expect(body).toContain('\\"stage\\",\\"dev\\"');
    expect(body).toContain('\\"service\\",\\"preview-service\\"');
    for (const stat of ['p50', 'p95']) expect(body).toContain(`\\"stat\\":\\"${stat}\\"`);
    // Failures by reason, whatever reasons occur.
    expect(body).toContain('SEARCH(');
  });

  it("the dashboard shows the proxy's latency and its own overhead per request, p50 and p95", () => {
    // The body is joined from text and references (region, names): references read as text here.
    const parts = (
      ofType(synth.resources, 'AWS::CloudWatch::Dashboard')[0]?.[1].Properties?.DashboardBody as {
        'Fn::Join': [string, unknown[]];
      }
    )['Fn::Join'][1];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'ref')).join('')) as {
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const widget = body.widgets.find((w) => w.properties.title === 'Proxy latency and overhead (ms)');
    const lines = (widget?.properties.metrics ?? []).map((metric) => [
      metric[1],
      (metric.at(-1) as { stat?: string }).stat,
    ]);
    expect(lines).toEqual([
      ['ProxyLatencyMs', 'p50'],
      ['ProxyLatencyMs', 'p95'],
      ['ProxyOverheadMs', 'p50'],
      ['ProxyOverheadMs', 'p95'],
    ]);
  });

  it('the dashboard shows Lambda errors and throttles of every function and DynamoDB throttles', () => {
    const body = dashboardBody();
    for (const name of allFunctionNames()) expect(body).toContain(`\\"label\\":\\"${name}\\"`);
    expect(body).toContain('\\"Errors\\"');
    expect(body).toContain('\\"Throttles\\"');
    expect(body).toContain('ReadThrottleEvents');
    expect(body).toContain('WriteThrottleEvents');
  });

  it('the dashboard shows what preview tasks use in AWS, ephemeral storage included, from Container Insights', () => {
    const body = dashboardBody().replaceAll('\\', '');
    for (const metric of ['EphemeralStorageUtilized', 'MemoryUtilized', 'CpuUtilized']) {
      expect(body).toContain(
        `SEARCH('{ECS/ContainerInsights,ClusterName,TaskDefinitionFamily} MetricName="${metric}" ClusterName="`,
      );
    }
  });

  it('paging alarms notify the encrypted alarm topic when they fire and when they recover', () => {
    const alarms = ofType(synth.resources, 'AWS::CloudWatch::Alarm');
    const names = alarms.map(([, alarm]) => alarm.Properties?.AlarmName);
    expect(names).toEqual(
      expect.arrayContaining([
        'preview-dev-launch-failures',
        'preview-dev-launch-duration',
        'preview-dev-fan-out-latency',
        'preview-dev-failed-events',
        'preview-dev-api-server-errors',
        'preview-dev-dynamodb-throttles',
        'preview-dev-authorizer-failing',
        'preview-dev-launch-preview-failing',
        'preview-dev-start-preview-failing',
        'preview-dev-log-fan-out-failing',
      ]),
    );
    const topic = ref(synth.stack.alarms.topic);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [topic],
        OKActions: [topic],
        TreatMissingData: 'notBreaching',
        AlarmDescription: expect.stringContaining('docs/operations.md'),
      });
    }
    synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    // The TLS-only topic policy replaces the default one: CloudWatch may publish for this stage's alarms.
    const topicPolicy = json(
      ofType(synth.resources, 'AWS::SNS::TopicPolicy')[0]?.[1].Properties?.PolicyDocument,
    );
    expect(topicPolicy).toContain('"Service":"cloudwatch.amazonaws.com"');
    expect(topicPolicy).toContain(':alarm:preview-dev-*');
    synth.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it("the launch failure alarm watches the share of launches of this stage failed by the service's fault", () => {
    const alarm = ofType(synth.resources, 'AWS::CloudWatch::Alarm').find(
      ([, a]) => a.Properties?.AlarmName === 'preview-dev-launch-failures',
    )?.[1];
    const text = json(alarm?.Properties?.Metrics);
    expect(text).toContain('100 * FILL(failures, 0) / launches');
    expect(text).toContain('"MetricName":"ServiceLaunchFailures"');
    expect(text).toContain('{"Name":"stage","Value":"dev"}');
  });

  it('outputs the URLs and names operators need', () => {
    const outputs = Object.keys(synth.template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'RestApiUrl',
        'WebSocketUrl',
        'GenerationsBucketName',
        'PreviewClusterName',
        'PreviewLogGroupName',
        'AlarmTopicArn',
        'DashboardName',
        'FailedEventsQueueUrl',
      ]),
    );
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  it('reports no finding without an acknowledgement', () => {
    expect(nagFindings(synth.app)).toEqual([]);
  });

  it('every acknowledgement is on the construct it concerns, of a reviewed kind, with a reason of its own', () => {
    const acknowledged = acknowledgements(synth.app).filter((ack) => ack.id.includes('AwsSolutions-'));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, path } of acknowledged) expect(path, id).not.toBe(synth.stack.node.path);
    // A new kind of exception is a decision to review, not a line that slips in.
    const rules = [...new Set(acknowledged.map(({ id }) => /AwsSolutions-\w+/.exec(id)?.[0]))].sort();
    expect(rules).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG4',
      'AwsSolutions-CB4',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
      'AwsSolutions-SQS3',
    ]);
    // A reason says why this exception holds here: one text never serves two different rules.
    const rulesByReason = new Map<string, Set<string>>();
    for (const { id, reason } of acknowledged) {
      const rule = /AwsSolutions-\w+/.exec(id)?.[0] ?? id;
      rulesByReason.set(reason, (rulesByReason.get(reason) ?? new Set()).add(rule));
    }
    expect([...rulesByReason].filter(([, ids]) => ids.size > 1)).toEqual([]);
  });
});

describe('inventory', () => {
  it('holds exactly the resources of each kind that matter for security and cost', () => {
    const expected: Record<string, number> = {
      // The service's tables, and the redaction lists' (encrypted with the secrets key).
      'AWS::DynamoDB::Table': tableDefinitions.length + 1,
      'AWS::S3::Bucket': 4,
      'AWS::KMS::Key': 2,
      'AWS::EC2::VPC': 1,
      'AWS::EC2::SecurityGroup': 3,
      'AWS::EC2::VPCEndpoint': 6,
      'AWS::ApiGateway::RestApi': 1,
      'AWS::ApiGatewayV2::Api': 1,
      'AWS::WAFv2::WebACL': 1,
      'AWS::WAFv2::WebACLAssociation': 1,
      'AWS::ECS::Cluster': 1,
      'AWS::ECR::Repository': 1,
      // Preview images, and database snapshots.
      'AWS::CodeBuild::Project': 2,
      'AWS::SQS::Queue': 1,
      'AWS::SNS::Topic': 1,
      'AWS::Events::Rule': 3,
      'AWS::CloudWatch::Dashboard': 1,
      'AWS::IAM::User': 0,
      'AWS::IAM::ManagedPolicy': 0,
      'AWS::Lambda::Url': 0,
      'AWS::EC2::Instance': 0,
    };
    for (const [type, count] of Object.entries(expected)) synth.template.resourceCountIs(type, count);
  });

  it('has exactly the paging alarms the runbook describes', () => {
    const names = ofType(synth.resources, 'AWS::CloudWatch::Alarm').map(
      ([, alarm]) => alarm.Properties?.AlarmName,
    );
    expect(names).toHaveLength(new Set(names).size);
    expect(names.every((name) => typeof name === 'string' && name.startsWith('preview-dev-'))).toBe(true);
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', names.length);
    expect(names).toHaveLength(17);
  });

  it('every key rotates, and the default security group of the VPC is stripped of its rules', () => {
    synth.template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    synth.template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
      DefaultSecurityGroupId: {
        'Fn::GetAtt': [logicalId(synth.stack, synth.stack.network.vpc), 'DefaultSecurityGroup'],
      },
    });
  });
});

describe('invocation', () => {
  interface PermissionJson {
    Action: string;
    Principal: string;
    FunctionName: { 'Fn::GetAtt': [string, string] };
    SourceArn?: unknown;
  }
  const permissions = () =>
    ofType(synth.resources, 'AWS::Lambda::Permission').map(
      ([, resource]) => resource.Properties as unknown as PermissionJson,
    );
  const nameOf = (logical: string) =>
    [...synth.stack.functions].find(([, fn]) => logicalId(synth.stack, fn.function) === logical)?.[0] ??
    (logical === logicalId(synth.stack, synth.stack.restApi.authorizer.function.function)
      ? 'authorizer'
      : logical);

  it('every function may be invoked only by its own trigger, each permission naming its source', () => {
    const restApi = json({ Ref: logicalId(synth.stack, synth.stack.restApi.api) });
    const webSocketApi = json({ Ref: logicalId(synth.stack, synth.stack.webSocket!.api) });
    const rules = ofType(synth.resources, 'AWS::Events::Rule');
    const invokers = new Map<string, Set<string>>();
    for (const permission of permissions()) {
      const name = nameOf(permission.FunctionName['Fn::GetAtt'][0]);
      expect(permission.Action, name).toBe('lambda:InvokeFunction');
      expect(permission.SourceArn, name).toBeDefined();
      const source = json(permission.SourceArn);
      let invoker: string;
      if (permission.Principal === 'apigateway.amazonaws.com' && source.includes(restApi)) invoker = 'rest';
      else if (permission.Principal === 'apigateway.amazonaws.com' && source.includes(webSocketApi))
        invoker = 'websocket';
      else if (permission.Principal === 'logs.amazonaws.com') {
        expect(permission.SourceArn).toEqual(arnOf(synth.stack.previews.logGroup));
        invoker = 'log subscription';
      } else if (permission.Principal === 'events.amazonaws.com') {
        const rule = rules.find(([id]) => source === json({ 'Fn::GetAtt': [id, 'Arn'] }));
        expect(json(rule?.[1].Properties?.Targets), name).toContain(permission.FunctionName['Fn::GetAtt'][0]);
        invoker = 'rule';
      } else invoker = `${permission.Principal} ${source}`;
      invokers.set(name, (invokers.get(name) ?? new Set()).add(invoker));
    }
    const expected = new Map<string, string[]>([
      ['authorizer', ['rest']],
      ...routes.map((route) => [route.handler, ['rest']] as [string, string[]]),
      ...webSocketRoutes.map((route) => [`ws-${route.handler}`, ['websocket']] as [string, string[]]),
      ['log-fan-out', ['log subscription']],
      ['task-state-change', ['rule']],
      ['check-health', ['rule']],
      ['sweep-previews', ['rule']],
    ]);
    expect(Object.fromEntries([...invokers].map(([name, set]) => [name, [...set]]))).toEqual(
      Object.fromEntries(expected),
    );
  });

  it('functions started by other functions have no resource policy: only the roles that name them invoke them', () => {
    const permitted = new Set(permissions().map((p) => nameOf(p.FunctionName['Fn::GetAtt'][0])));
    expect(
      allFunctionNames()
        .filter((name) => !permitted.has(name))
        .sort(),
    ).toEqual(['log-replay', 'start-preview']);
  });
});
