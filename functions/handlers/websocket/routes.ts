/**
 * The WebSocket API's routes: API Gateway selects one by `$request.body.action`. The CDK stack
 * builds an integration per entry; the local gateway routes to the same handlers.
 * `handler` names the module `functions/handlers/websocket/<handler>.ts`, which exports `handler`.
 */
export const routeSelectionExpression = '$request.body.action';

export interface WebSocketRouteDefinition {
  readonly routeKey: '$connect' | '$disconnect' | '$default' | 'subscribe' | 'unsubscribe' | 'ping';
  readonly handler: string;
}

export const webSocketRoutes: readonly WebSocketRouteDefinition[] = [
  { routeKey: '$connect', handler: 'connect' },
  { routeKey: '$disconnect', handler: 'disconnect' },
  { routeKey: 'subscribe', handler: 'subscribe' },
  { routeKey: 'unsubscribe', handler: 'unsubscribe' },
  { routeKey: 'ping', handler: 'ping' },
  { routeKey: '$default', handler: 'default' },
];
