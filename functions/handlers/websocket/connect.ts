import { connectQuerySchema } from '../../core/live-schemas.js';
import { parsePart } from '../request-input.js';
import { connectQuery, connectRoute } from './websocket-route.js';

/** `$connect`: the preview token opens the preview's live stream; anything else refuses the handshake. */
export const handler = connectRoute(async ({ event, live }) => {
  const query = parsePart(connectQuerySchema, connectQuery(event), 'query');
  await live.connect(event.requestContext.connectionId, query);
});
