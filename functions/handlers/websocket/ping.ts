import { pingMessageSchema } from '#core/live-schemas.js';
import { messageRoute } from './websocket-route.js';

/** `{"action": "ping"}`: answered with `{"type": "pong"}`. */
export const handler = messageRoute(pingMessageSchema, async ({ connectionId, live }) => {
  await live.ping(connectionId);
});
