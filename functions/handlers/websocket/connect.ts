import { connectQuerySchema } from '#core/live-schemas.js';
import { parsePart, queryParameters } from '../request-input.js';
import { connectRoute } from './websocket-route.js';

/** `$connect`: the preview token opens the preview's live stream; anything else refuses the handshake. */
export const handler = connectRoute(async ({ event, live }) => {
  const query = parsePart(connectQuerySchema, queryParameters(event), 'query');
  await live.connect(event.requestContext.connectionId, query);
});
