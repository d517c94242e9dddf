import { lambdaHandler } from '../lambda-handler.js';
import { requireLogs } from '../log-services.js';
import { services } from '../services.js';
import type { WebSocketEvent, WebSocketResult } from './websocket-route.js';

/** `$disconnect`: the connection is forgotten (API Gateway calls it at most once, on a best-effort basis). */
export const handler = lambdaHandler(async (event: WebSocketEvent): Promise<WebSocketResult> => {
  await requireLogs(services().logs).live.disconnect(event.requestContext.connectionId);
  return { statusCode: 200 };
});
