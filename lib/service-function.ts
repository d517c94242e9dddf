import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  Charset,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Repository root: entries, the lock file and the bundler are resolved from here, whatever the cwd. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export const serviceName = 'preview-service';

/**
 * Prepended to every bundle. The output is ESM, where `require` does not exist, but CommonJS
 * dependencies bundled by esbuild still call it for Node built-ins. The import is aliased so it
 * cannot clash with a bundled module's own `createRequire` import.
 */
export const esmRequireBanner =
  "import { createRequire as __serviceCreateRequire } from 'node:module';" +
  'const require = __serviceCreateRequire(import.meta.url);';

export interface ServiceFunctionProps {
  /** Handler module, relative to the repository root (`functions/handlers/...ts`); it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly stage: string;
  /** Extra environment on top of the service-wide variables. */
  readonly environment?: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /** Keep the log group when the function is deleted. */
  readonly retainLogs: boolean;
}

/**
 * A Lambda function of the service: Node 22 on arm64, bundled to one ESM file by the local
 * esbuild, with its own log group so retention is set without a log-retention custom resource.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(projectRoot, props.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      // Every HTTP route sits behind API Gateway, which gives up after 29 s.
      timeout: props.timeout ?? Duration.seconds(29),
      memorySize: props.memorySize ?? 512,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceName,
        PREVIEW_STAGE: props.stage,
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
  }
}
