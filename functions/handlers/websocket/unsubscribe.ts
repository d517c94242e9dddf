import { unsubscribeMessageSchema } from '#core/live-schemas.js';
import { messageRoute } from './websocket-route.js';

/** `{"action": "unsubscribe"}`: no more log lines; status, health and metrics keep coming. */
export const handler = messageRoute(unsubscribeMessageSchema, async ({ connectionId, live }) => {
  await live.unsubscribe(connectionId);
});
