import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type { CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';
import type { ServiceFunction } from './service-function.js';

export interface PreviewWebSocketApiProps {
  readonly stage: string;
  readonly logRetention: RetentionDays;
  readonly retainLogs: boolean;
  /** Messages and connections per second for the whole stage. */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
}

/**
 * The WebSocket API clients follow a preview through: routes are chosen by the message's `action`
 * (`subscribe`, `unsubscribe`, `ping`), plus `$connect`, `$disconnect` and `$default`, each added with
 * its handler. `$connect` authorizes with the preview token in the query string. API Gateway takes
 * client messages of up to 128 KB in 32 KB frames; the service's cap is one frame, 32 KB, as
 * locally: the message routes answer a larger message with `payload_too_large` without reading it.
 */
export class PreviewWebSocketApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  /** `wss://…/<stage>`: where clients connect (the launch response's `wsUrl` starts with it). */
  readonly url: string;
  /** `https://…/<stage>`: the management API endpoint functions post to connections through. */
  readonly managementUrl: string;
  private readonly stageName: string;

  constructor(scope: Construct, id: string, props: PreviewWebSocketApiProps) {
    super(scope, id);
    this.stageName = props.stage;

    this.api = new WebSocketApi(this, 'Api', {
      apiName: `preview-service-ws-${props.stage}`,
      description: `Preview service live logs, metrics, health and status (${props.stage})`,
      routeSelectionExpression: '$request.body.action',
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stage,
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            integrationLatency: '$context.integrationLatency',
            error: '$context.error.message',
          }),
        ),
      },
    });
    // Set on the L1 so throttling and execution logging (errors only: message bodies carry log lines)
    // share the stage's one DefaultRouteSettings.
    (this.stage.node.defaultChild as CfnStage).defaultRouteSettings = {
      throttlingRateLimit: props.throttlingRateLimit ?? 500,
      throttlingBurstLimit: props.throttlingBurstLimit ?? 1000,
      loggingLevel: 'ERROR',
      dataTraceEnabled: false,
    };

    const stack = Stack.of(this);
    const host = `${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    // Built from the API id and the stage's name, so functions can refer to them without depending on
    // the stage (whose deployment depends on the routes, and so on those functions).
    this.url = `wss://${host}/${props.stage}`;
    this.managementUrl = `https://${host}/${props.stage}`;
  }

  addRoute(routeKey: string, handler: IFunction): void {
    const id = routeKey.replace(/^\$/, '').replace(/^./, (c) => c.toUpperCase());
    const route = this.api.addRoute(routeKey, {
      integration: new WebSocketLambdaIntegration(`${id}Integration`, handler),
    });
    Validations.of(route).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        routeKey === '$connect'
          ? 'Connections are authorized by the $connect handler, which checks the preview token of the ' +
            'query string against the preview (hashed, rotated on restart); the SaaS JWT is not available ' +
            'to a browser WebSocket.'
          : 'API Gateway authorizes WebSocket connections on $connect only; every other route runs on a ' +
            'connection $connect has authorized.',
    });
  }

  /** Lets a function post to, read and close connections of this API's stage, and no other API. */
  grantManageConnections(fn: ServiceFunction): void {
    const connections = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${this.stageName}/*/@connections/*`,
    });
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connections] }),
    );
    acknowledgeWildcardResource(
      fn,
      connections,
      'Connections are created by clients at run time; the grant covers the connections of this API stage only.',
    );
  }
}
