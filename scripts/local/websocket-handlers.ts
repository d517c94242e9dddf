import type { WebSocketEvent, WebSocketResult } from '../../functions/handlers/websocket/websocket-route.js';

export type WebSocketHandler = (event: WebSocketEvent) => Promise<WebSocketResult>;

/**
 * The WebSocket route handlers by name, loaded on first use like a Lambda cold start. Literal
 * import paths keep them visible to bundlers and test runners; a test checks this matches the routes.
 */
export const webSocketHandlers: Record<string, () => Promise<{ handler: WebSocketHandler }>> = {
  connect: () => import('../../functions/handlers/websocket/connect.js'),
  disconnect: () => import('../../functions/handlers/websocket/disconnect.js'),
  subscribe: () => import('../../functions/handlers/websocket/subscribe.js'),
  unsubscribe: () => import('../../functions/handlers/websocket/unsubscribe.js'),
  ping: () => import('../../functions/handlers/websocket/ping.js'),
  default: () => import('../../functions/handlers/websocket/default.js'),
};
