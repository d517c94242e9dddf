import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { GatewayVpcEndpoint, InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tableReadActions, tableWriteActions } from './data-tables.js';

export interface PreviewNetworkProps {
  readonly natGateways: number;
  readonly logRetention: RetentionDays;
  readonly retainLogs: boolean;
}

/** What the endpoints admit: the stack's own resources that tasks (and the proxy functions) use. */
export interface EndpointResources {
  /** Repositories preview images are pulled from (the preview repository, the pull-through cache). */
  readonly repositoryArns: readonly string[];
  /** Repositories the pull-through cache creates on first pull (`…:repository/<prefix>/*`). */
  readonly cacheRepositoryArns: readonly string[];
  /** The preview log group. */
  readonly logGroupArn: string;
  /** The previews' secret parameters. */
  readonly parameterArns: string;
  /** The service's tables (their indexes are admitted with them). */
  readonly tableArns: readonly string[];
}

/**
 * The VPC previews run in. Two kinds of private subnet:
 * - `Previews` (isolated, no route out): preview tasks. Generated apps get no internet; they reach only
 *   the ECR, CloudWatch Logs and SSM interface endpoints and the S3 gateway endpoint (image layers),
 *   which is all Fargate needs to start them, and each endpoint's policy admits this stack's resources
 *   alone. Their security group's egress goes to those endpoints only.
 * - `Functions` (egress through NAT): the functions that open connections to preview tasks. They also
 *   call APIs that have no endpoint here (ECS, CodeBuild, the WebSocket management API).
 * DynamoDB and S3 gateway endpoints keep the bulk of the functions' traffic off the NAT gateway.
 */
export class PreviewNetwork extends Construct {
  readonly vpc: Vpc;
  readonly previewSubnets: SubnetSelection = { subnetGroupName: 'Previews' };
  readonly functionSubnets: SubnetSelection = { subnetGroupName: 'Functions' };
  /** Preview tasks: accept connections from the proxy functions only. */
  readonly previewSecurityGroup: SecurityGroup;
  /** Functions that reach preview tasks. */
  readonly proxySecurityGroup: SecurityGroup;
  readonly s3Endpoint: GatewayVpcEndpoint;
  /** The functions' only: preview tasks have no route to DynamoDB. */
  readonly dynamoDbEndpoint: GatewayVpcEndpoint;
  /** The interface endpoints of the preview subnets, by service: ECR (API and registry), Logs, SSM. */
  readonly interfaceEndpoints: ReadonlyMap<'EcrApi' | 'EcrDocker' | 'Logs' | 'Ssm', InterfaceVpcEndpoint>;
  /** The interface endpoints' network interfaces: what preview tasks may connect to. */
  readonly endpointSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: PreviewNetworkProps) {
    super(scope, id);

    const flowLogs = new LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        // Only the NAT gateways live here.
        { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Functions', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        // One address per running preview task.
        { name: 'Previews', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 20 },
      ],
      restrictDefaultSecurityGroup: true,
      // Rejected connections only: what an operator looks for when a preview cannot be reached.
      flowLogs: {
        Rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: FlowLogTrafficType.REJECT,
        },
      },
    });

    const privateSubnets = [this.previewSubnets, this.functionSubnets];
    this.s3Endpoint = this.vpc.addGatewayEndpoint('S3', {
      service: GatewayVpcEndpointAwsService.S3,
      subnets: privateSubnets,
    });
    this.dynamoDbEndpoint = this.vpc.addGatewayEndpoint('DynamoDb', {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.functionSubnets],
    });
    this.proxySecurityGroup = new SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: this.vpc,
      description: 'Functions that open connections to preview tasks',
      allowAllOutbound: false,
    });
    this.previewSecurityGroup = new SecurityGroup(this, 'PreviewSecurityGroup', {
      vpc: this.vpc,
      description: 'Preview tasks: reachable from the proxy functions only',
      allowAllOutbound: false,
    });

    // A generated app listens on the port its generation names, so any TCP port, from this group only.
    this.previewSecurityGroup.addIngressRule(
      this.proxySecurityGroup,
      Port.allTcp(),
      'Proxy functions to preview apps',
    );
    this.proxySecurityGroup.addEgressRule(
      this.previewSecurityGroup,
      Port.allTcp(),
      'Requests to preview apps',
    );
    this.proxySecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'AWS APIs (VPC endpoints and NAT)');

    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints of the preview subnets (ECR, Logs, SSM)',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(this.previewSecurityGroup, Port.tcp(443), 'Preview tasks');
    this.endpointSecurityGroup.addIngressRule(this.proxySecurityGroup, Port.tcp(443), 'Proxy functions');
    // Preview tasks reach the interface endpoints, and S3 (image layers) through its gateway endpoint.
    this.previewSecurityGroup.addEgressRule(
      this.endpointSecurityGroup,
      Port.tcp(443),
      'Image pulls, logs and secrets (VPC endpoints)',
    );
    this.previewSecurityGroup.addEgressRule(
      Peer.prefixList(this.s3PrefixListId()),
      Port.tcp(443),
      'Image layers (S3 gateway endpoint)',
    );

    // What Fargate needs to pull an image, fetch the task's secrets and ship logs from the isolated
    // subnets. Private DNS sends the proxy functions' calls to these services here too.
    const endpoints = new Map<'EcrApi' | 'EcrDocker' | 'Logs' | 'Ssm', InterfaceVpcEndpoint>();
    for (const [endpointId, service] of [
      ['EcrApi', InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['Logs', InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['Ssm', InterfaceVpcEndpointAwsService.SSM],
    ] as const) {
      endpoints.set(
        endpointId,
        this.vpc.addInterfaceEndpoint(endpointId, {
          service,
          subnets: this.previewSubnets,
          privateDnsEnabled: true,
          open: false,
          securityGroups: [this.endpointSecurityGroup],
        }),
      );
    }
    this.interfaceEndpoints = endpoints;
  }

  /**
   * Endpoint policies: each endpoint admits the actions tasks need on this stack's resources alone,
   * so nothing inside the VPC reaches another account's or another stack's repositories, log groups,
   * parameters or tables through them.
   */
  restrictEndpoints(resources: EndpointResources): void {
    const allow = (sid: string, actions: string[], arns: readonly string[]) =>
      new PolicyStatement({ sid, principals: [new AnyPrincipal()], actions, resources: [...arns] });
    const pulls = allow(
      'PullPreviewImages',
      ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      [...resources.repositoryArns, ...resources.cacheRepositoryArns],
    );
    const cache = allow(
      'FillPullThroughCache',
      ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
      resources.cacheRepositoryArns,
    );
    for (const id of ['EcrApi', 'EcrDocker'] as const) {
      const endpoint = this.interfaceEndpoints.get(id)!;
      endpoint.addToPolicy(pulls);
      endpoint.addToPolicy(cache);
      // Registry login takes no resource.
      endpoint.addToPolicy(allow('RegistryLogin', ['ecr:GetAuthorizationToken'], ['*']));
    }
    this.interfaceEndpoints
      .get('Logs')!
      .addToPolicy(
        allow('PreviewLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [resources.logGroupArn]),
      );
    this.interfaceEndpoints
      .get('Ssm')!
      .addToPolicy(allow('PreviewSecrets', ['ssm:GetParameters'], [resources.parameterArns]));
    // Private DNS sends the launching functions' calls here too: image and snapshot lookups,
    // snapshot eviction, and the previews' and snapshot builds' secret parameters.
    const ecrApi = this.interfaceEndpoints.get('EcrApi')!;
    ecrApi.addToPolicy(
      allow(
        'FindServiceImages',
        ['ecr:DescribeImages'],
        [...resources.repositoryArns, ...resources.cacheRepositoryArns],
      ),
    );
    ecrApi.addToPolicy(allow('EvictSnapshots', ['ecr:BatchDeleteImage'], resources.repositoryArns));
    this.interfaceEndpoints
      .get('Ssm')!
      .addToPolicy(
        allow(
          'ManagePreviewSecrets',
          ['ssm:PutParameter', 'ssm:DeleteParameters', 'ssm:GetParametersByPath'],
          [resources.parameterArns],
        ),
      );
    this.dynamoDbEndpoint.addToPolicy(
      allow(
        'ServiceTables',
        [...tableReadActions, ...tableWriteActions],
        resources.tableArns.flatMap((arn) => [arn, `${arn}/index/*`]),
      ),
    );
  }

  /**
   * The id of the region's S3 prefix list (`com.amazonaws.<region>.s3`), looked up at deploy time so the
   * stack stays environment-agnostic.
   */
  private s3PrefixListId(): string {
    const stack = Stack.of(this);
    const name = `com.amazonaws.${stack.region}.s3`;
    const lookup = new AwsCustomResource(this, 'S3PrefixList', {
      onUpdate: {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [name] }] },
        physicalResourceId: PhysicalResourceId.of(name),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    Validations.of(lookup).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeManagedPrefixLists supports no resource-level permissions.',
    });
    // The provider is a singleton of the stack, named after its UUID.
    const provider = stack.node.tryFindChild(
      `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "The deploy-time lookup's provider function (CDK's own) writes its logs with the basic execution role.",
      });
    }
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }

  /**
   * Narrows the S3 endpoint to the buckets the service uses and the bucket ECR keeps image layers in, so
   * nothing inside the VPC can reach any other bucket through it.
   */
  restrictS3Endpoint(buckets: readonly IBucket[]): void {
    const stack = Stack.of(this);
    this.s3Endpoint.addToPolicy(
      new PolicyStatement({
        sid: 'EcrImageLayers',
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [`arn:${stack.partition}:s3:::prod-${stack.region}-starport-layer-bucket/*`],
      }),
    );
    this.s3Endpoint.addToPolicy(
      new PolicyStatement({
        sid: 'ServiceBuckets',
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:AbortMultipartUpload'],
        resources: buckets.flatMap((bucket) => [bucket.bucketArn, bucket.arnForObjects('*')]),
      }),
    );
  }
}
