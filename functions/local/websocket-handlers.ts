import type { WebSocketEvent, WebSocketResult } from '../handlers/websocket/websocket-route.js';

export type WebSocketHandler = (event: WebSocketEvent) => Promise<WebSocketResult>;

/**
 * The WebSocket route handlers by name, loaded on first use like a Lambda cold start. Literal
 * import paths keep them visible to bundlers and test runners; a test checks this matches the routes.
 */
export const webSocketHandlers: Record<string, () => Promise<{ handler: WebSocketHandler }>> = {
  connect: () => import('../handlers/websocket/connect.js'),
  disconnect: () => import('../handlers/websocket/disconnect.js'),
  subscribe: () => import('../handlers/websocket/subscribe.js'),
  unsubscribe: () => import('../handlers/websocket/unsubscribe.js'),
  ping: () => import('../handlers/websocket/ping.js'),
  default: () => import('../handlers/websocket/default.js'),
};
