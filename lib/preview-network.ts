import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { GatewayVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
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
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface PreviewNetworkProps {
  readonly natGateways: number;
  readonly logRetention: RetentionDays;
  readonly retainLogs: boolean;
}

/**
 * The VPC previews run in. Two kinds of private subnet:
 * - `Previews` (isolated, no route out): preview tasks. Generated apps get no internet; they reach only
 *   ECR, CloudWatch Logs and S3 through VPC endpoints, which is all Fargate needs to start them.
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
    this.vpc.addGatewayEndpoint('DynamoDb', {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: privateSubnets,
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
    // The isolated subnets route nowhere but to the VPC endpoints, so this reaches ECR, Logs and S3 only.
    this.previewSecurityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      'Image pulls and logs (VPC endpoints)',
    );
    this.proxySecurityGroup.addEgressRule(
      this.previewSecurityGroup,
      Port.allTcp(),
      'Requests to preview apps',
    );
    this.proxySecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'AWS APIs (VPC endpoints and NAT)');

    // What Fargate needs to pull an image and ship logs from the isolated subnets. Private DNS sends the
    // proxy functions' ECR and Logs calls here too.
    for (const [endpointId, service] of [
      ['EcrApi', InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['Logs', InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
    ] as const) {
      const endpoint = this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        subnets: this.previewSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      endpoint.connections.allowFrom(this.previewSecurityGroup, Port.tcp(443), 'Preview tasks');
      endpoint.connections.allowFrom(this.proxySecurityGroup, Port.tcp(443), 'Proxy functions');
    }
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
