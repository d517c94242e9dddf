import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
  type MethodOptions,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { RouteDefinition } from '#handlers/http/routes.js';
import {
  corsAllowedHeaders,
  corsAllowedMethods,
  corsMaxAgeSeconds,
} from '#handlers/middleware/cors-headers.js';
import { GatewayResponses } from './gateway-responses.js';
import { JwtAuthorizer } from './jwt-authorizer.js';
import { convertPreflightsToText } from './preflight-content-handling.js';
import { RestApiFirewall } from './rest-api-firewall.js';
import type { FunctionDefaults, ServiceFunction } from './service-function.js';
import type { JwtSettings } from './stage-config.js';

export interface PreviewRestApiProps {
  readonly defaults: FunctionDefaults;
  readonly jwt: JwtSettings;
  /** The SaaS frontend's origin: CORS preflights and error responses allow it. Absent: same-origin only. */
  readonly allowedOrigin?: string;
  /** A regional WAFv2 web ACL to associate with the stage. */
  readonly webAclArn?: string;
  /** Requests per minute per Authorization header, by the stack's own web ACL (used without `webAclArn`). */
  readonly userRateLimitPerMinute: number;
  /** Answer launches 429 (throttled to zero) while every other route keeps working. */
  readonly drainLaunches?: boolean;
  /** Steady-state requests per second for the whole stage. */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
}

/** The launch route, throttled to zero while draining. */
export const launchRoutePath = '/api/generations/{generationId}/preview/launch';

/**
 * The REST API: a Lambda proxy integration per route (added with `addRoute`), the JWT authorizer in
 * front of every authenticated one, errors in the service's shape, access logs and stage throttling.
 */
export class PreviewRestApi extends Construct {
  readonly api: RestApi;
  readonly authorizer: JwtAuthorizer;
  readonly accessLogs: LogGroup;
  /** Base URL of the stage, no trailing slash: route paths (`/api/...`) are appended to it. */
  readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: PreviewRestApiProps) {
    super(scope, id);
    const { stage } = props.defaults;

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.defaults.logRetention,
      removalPolicy: props.defaults.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: `preview-service-${stage}`,
      description: `Preview service REST API (${stage})`,
      endpointTypes: [EndpointType.REGIONAL],
      // Every body passes through as bytes (base64 in the event, which the handlers decode): the
      // proxy carries the apps' binary answers and log exports may be gzip.
      binaryMediaTypes: ['*/*'],
      // The API Gateway CloudWatch role is an account-wide setting; a stack that owns it breaks
      // other APIs in the account when deleted. It belongs to per-account setup (docs/deploy.md).
      cloudWatchRole: false,
      deployOptions: {
        stageName: stage,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
        // Errors only, without bodies: requests carry tokens and generated apps' data.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        ...(props.drainLaunches
          ? {
              methodOptions: {
                [`${launchRoutePath}/POST`]: { throttlingRateLimit: 0, throttlingBurstLimit: 0 },
              },
            }
          : {}),
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            user: '$context.authorizer.principalId',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            resourcePath: '$context.resourcePath',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            error: '$context.error.message',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
      ...(props.allowedOrigin
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: [props.allowedOrigin],
              allowMethods: corsAllowedMethods,
              allowHeaders: corsAllowedHeaders,
              maxAge: Duration.seconds(corsMaxAgeSeconds),
            },
          }
        : {}),
    });

    if (props.allowedOrigin) convertPreflightsToText(this.api);

    // The stack publishes the URL under a stable output name; drop RestApi's automatic duplicate.
    this.api.node.tryRemoveChild('Endpoint');

    this.authorizer = new JwtAuthorizer(this, 'Authorizer', { defaults: props.defaults, jwt: props.jwt });

    // Built from the API id rather than `api.url`: that refers to the stage, which depends on the
    // methods and so on the route functions, which get this URL: a dependency cycle.
    const stack = Stack.of(this);
    this.publicUrl = `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${stage}`;

    new GatewayResponses(this, 'GatewayResponses', {
      api: this.api,
      ...(props.allowedOrigin ? { allowedOrigin: props.allowedOrigin } : {}),
    });

    const deploymentStage = this.api.deploymentStage;
    if (props.webAclArn) {
      new CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    } else {
      // A stage takes one web ACL: an operator's own replaces this one (and brings its own limits).
      new RestApiFirewall(this, 'Firewall', {
        stage,
        stageArn: deploymentStage.stageArn,
        userRateLimitPerMinute: props.userRateLimitPerMinute,
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Every route function validates path, query and body with the zod schemas the OpenAPI document is ' +
        'generated from, and answers 400 with field errors; a second, API Gateway copy of those schemas ' +
        'would drift from them.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        "Users are the SaaS identity provider's, not a Cognito user pool's: a Lambda TOKEN authorizer " +
        'verifies its JWTs against its JWKS.',
    });
  }

  /** A Lambda proxy integration for one route of the route table. */
  addRoute(route: RouteDefinition, fn: ServiceFunction): void {
    const options: MethodOptions = route.authenticated
      ? { authorizer: this.authorizer.authorizer, authorizationType: AuthorizationType.CUSTOM }
      : { authorizationType: AuthorizationType.NONE };
    const method = this.api.root
      .resourceForPath(route.path)
      .addMethod(route.method, new LambdaIntegration(fn.function, { proxy: true }), options);
    if (!route.authenticated) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${route.method} ${route.path} is public by design (the route table marks it unauthenticated).`,
      });
    }
  }
}
