/**
 * The WebSocket API's routes: API Gateway selects one by `$request.body.action`. `handler` names
 * the route's function in the registry (`webSocketFunctions` in ../registry.ts), which must have
 * one for each route: the CDK stack integrates it and the local WebSocket API runs it.
 */
export const routeSelectionExpression = '$request.body.action';

export interface WebSocketRouteDefinition {
  readonly routeKey: '$connect' | '$disconnect' | '$default' | 'subscribe' | 'unsubscribe' | 'ping';
  readonly handler: string;
}

export const webSocketRoutes = [
  { routeKey: '$connect', handler: 'connect' },
  { routeKey: '$disconnect', handler: 'disconnect' },
  { routeKey: 'subscribe', handler: 'subscribe' },
  { routeKey: 'unsubscribe', handler: 'unsubscribe' },
  { routeKey: 'ping', handler: 'ping' },
  { routeKey: '$default', handler: 'default' },
] as const satisfies readonly WebSocketRouteDefinition[];

export type WebSocketRouteName = (typeof webSocketRoutes)[number]['handler'];
