import { Stack } from 'aws-cdk-lib';
import {
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  RestApi,
  type MethodOptions,
} from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { routes as serviceRoutes, type RouteDefinition } from '../functions/handlers/http/routes.js';
import type { DataTables } from './data-tables.js';
import { GatewayResponses } from './gateway-responses.js';
import { JwtAuthorizer } from './jwt-authorizer.js';
import { ServiceFunction } from './service-function.js';
import type { JwtSettings } from './stage-config.js';

export interface PreviewRestApiProps {
  readonly stage: string;
  /** Keep logs when functions are deleted. */
  readonly retainLogs: boolean;
  readonly jwt: JwtSettings;
  /** Every route function reads and writes these tables and gets their names in its environment. */
  readonly tables: DataTables;
  /** Defaults to the service's route table. */
  readonly routes?: readonly RouteDefinition[];
  /** Steady-state requests per second for the whole stage. */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
}

/** The REST API: one Lambda proxy integration per entry of the route table, behind the JWT authorizer. */
export class PreviewRestApi extends Construct {
  readonly api: RestApi;
  readonly authorizer: JwtAuthorizer;
  readonly routes: readonly RouteDefinition[];
  /** Base URL of the stage, no trailing slash: route paths (`/api/...`) are appended to it. */
  readonly publicUrl: string;
  private readonly functions = new Map<string, ServiceFunction>();

  constructor(scope: Construct, id: string, props: PreviewRestApiProps) {
    super(scope, id);
    this.routes = props.routes ?? serviceRoutes;

    this.api = new RestApi(this, 'Api', {
      restApiName: `preview-service-${props.stage}`,
      description: `Preview service REST API (${props.stage})`,
      endpointTypes: [EndpointType.REGIONAL],
      // The API Gateway CloudWatch role is an account-wide setting; a stack that owns it breaks
      // other APIs in the account when deleted. It belongs to per-account setup, not to a stage.
      cloudWatchRole: false,
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
    });

    // The stack publishes the URL under a stable output name; drop RestApi's automatic duplicate.
    this.api.node.tryRemoveChild('Endpoint');

    this.authorizer = new JwtAuthorizer(this, 'Authorizer', {
      stage: props.stage,
      jwt: props.jwt,
      retainLogs: props.retainLogs,
    });

    // Built from the API id rather than `api.url`: that refers to the stage, which depends on the
    // methods and so on these functions, a dependency cycle.
    const stack = Stack.of(this);
    this.publicUrl = `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${props.stage}`;
    // Only the authorizer verifies tokens, so route functions get no JWT settings.
    const routeEnvironment = { ...props.tables.environment(), PREVIEW_PUBLIC_URL: this.publicUrl };
    for (const route of this.routes) {
      const handler = this.handlerFunction(route, props, routeEnvironment);
      const options: MethodOptions = route.authenticated
        ? { authorizer: this.authorizer.authorizer, authorizationType: AuthorizationType.CUSTOM }
        : { authorizationType: AuthorizationType.NONE };
      this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new LambdaIntegration(handler.function, { proxy: true }), options);
    }

    new GatewayResponses(this, 'GatewayResponses', { api: this.api });
  }

  /** The function serving a handler module of the route table. */
  routeFunction(handler: string): ServiceFunction {
    const fn = this.functions.get(handler);
    if (!fn) throw new Error(`No route uses the handler "${handler}".`);
    return fn;
  }

  /** One function per handler module, shared if several routes name the same one. */
  private handlerFunction(
    route: RouteDefinition,
    props: PreviewRestApiProps,
    environment: Record<string, string>,
  ): ServiceFunction {
    const existing = this.functions.get(route.handler);
    if (existing) return existing;
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(route.handler)) {
      throw new Error(
        `Route ${route.method} ${route.path}: handler "${route.handler}" is not a kebab-case name.`,
      );
    }
    const fn = new ServiceFunction(this, pascalCase(route.handler), {
      entry: `functions/handlers/http/${route.handler}.ts`,
      description: `${route.method} ${route.path}`,
      stage: props.stage,
      environment,
      retainLogs: props.retainLogs,
    });
    props.tables.grantReadWriteData(fn.function);
    this.functions.set(route.handler, fn);
    return fn;
  }
}

/** `list-previews` → `ListPreviews`. */
function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('');
}
