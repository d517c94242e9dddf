import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import {
  Charset,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { serviceName } from '#core/service-metrics.js';
import { serviceMetrics } from './service-metrics.js';

/** Repository root: the lock file and the bundler are resolved from here, whatever the cwd. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export { serviceName };

/**
 * Prepended to every bundle. The output is ESM, where `require` does not exist, but CommonJS
 * dependencies bundled by esbuild still call it for Node built-ins. The import is aliased so it
 * cannot clash with a bundled module's own `createRequire` import.
 */
export const esmRequireBanner =
  "import { createRequire as __serviceCreateRequire } from 'node:module';" +
  'const require = __serviceCreateRequire(import.meta.url);';

/** What every function of a stage shares. */
export interface FunctionDefaults {
  readonly stage: string;
  /** Keep log groups when functions are deleted. */
  readonly retainLogs: boolean;
  readonly logRetention: RetentionDays;
  /** The repository: the lock file and the bundler are found here. */
  readonly projectRoot: string;
}

/** Where a function that opens connections into the VPC is attached. */
export interface FunctionNetwork {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroups: ISecurityGroup[];
}

export interface ServiceFunctionProps {
  /** Absolute path of the handler module (a registry entry's, functions/handlers/registry.ts); it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly defaults: FunctionDefaults;
  /** Extra environment on top of the service-wide variables. */
  readonly environment?: Record<string, string>;
  /** A fixed physical name, for functions others invoke by name; generated otherwise. */
  readonly functionName?: string | undefined;
  readonly timeout?: Duration | undefined;
  readonly memorySize?: number | undefined;
  /** Reserved concurrency: the most instances at once, held for this function alone. */
  readonly reservedConcurrency?: number | undefined;
  readonly network?: FunctionNetwork;
}

/** What Lambda does with the function's role to attach it to a VPC (the EC2 part of AWSLambdaVPCAccessExecutionRole). */
const vpcAttachmentActions = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/**
 * A Lambda function of the service: Node 22 on arm64, bundled to one ESM file by the local esbuild,
 * traced, with its own log group (retention without a custom resource) and its own role, which starts
 * with nothing but writing to that log group: every other permission is granted by name.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const { defaults } = props;

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: defaults.logRetention,
      removalPolicy: defaults.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // No managed policies: AWSLambdaBasicExecutionRole would allow writing to every log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (${defaults.stage})`.slice(0, 1000),
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      this.role.addToPolicy(new PolicyStatement({ actions: vpcAttachmentActions, resources: ['*'] }));
    }
    this.acknowledgeAnyResource(
      props.network
        ? 'X-Ray trace upload and the network-interface actions Lambda uses to attach the function to the ' +
            'VPC support no resource-level permissions.'
        : 'X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level ' +
            'permissions.',
    );

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: defaults.projectRoot,
      depsLockFilePath: path.join(defaults.projectRoot, 'package-lock.json'),
      description: props.description,
      ...(props.functionName ? { functionName: props.functionName } : {}),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      role: this.role,
      // Every HTTP route sits behind API Gateway, which gives up after 29 s.
      timeout: props.timeout ?? Duration.seconds(29),
      memorySize: props.memorySize ?? 512,
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets,
            securityGroups: props.network.securityGroups,
          }
        : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: serviceMetrics.namespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        PREVIEW_STAGE: defaults.stage,
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        // Prefer packages' ESM builds: they tree-shake and need no `require` shim.
        mainFields: ['module', 'main'],
        banner: esmRequireBanner,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        // Stack traces need file names and lines only; leaving the sources out keeps the zip small.
        sourcesContent: false,
        charset: Charset.UTF8,
        // The Node 22 runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
        // Sizes of every bundle drown the synth output; warnings and errors still show.
        logLevel: LogLevel.WARNING,
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the service is built, typed (target node22) and tested for; moving to a ' +
        'newer runtime is a deliberate upgrade, not a side effect of a CDK release.',
    });
  }

  addEnvironment(variables: Record<string, string>): void {
    for (const [name, value] of Object.entries(variables)) this.function.addEnvironment(name, value);
  }

  addToRolePolicy(statement: PolicyStatement): void {
    this.role.addToPolicy(statement);
  }

  /** Records why the role has a statement on `*`: an action that takes no narrower resource. */
  acknowledgeAnyResource(reason: string): void {
    Validations.of(this).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason });
  }

  /**
   * Asynchronous invocations (EventBridge, CloudWatch Logs, another function): how often a failed one is
   * retried, how old an event may get, and where it goes when it fails for good.
   */
  sendFailuresTo(queue: IQueue, retries: { attempts: number; maxEventAge: Duration }): void {
    this.function.configureAsyncInvoke({
      onFailure: new SqsDestination(queue),
      retryAttempts: retries.attempts,
      maxEventAge: retries.maxEventAge,
    });
  }
}
