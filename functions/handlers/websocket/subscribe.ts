import { subscribeMessageSchema } from '#core/live-schemas.js';
import { messageRoute } from './websocket-route.js';

/** `{"action": "subscribe", "filters": {level, source, search}}`: replaces the connection's filters. */
export const handler = messageRoute(subscribeMessageSchema, async ({ connectionId, body, live }) => {
  await live.subscribe(connectionId, body.filters);
});
