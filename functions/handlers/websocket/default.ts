import { z } from 'zod';
import { AppError } from '#core/errors.js';
import { webSocketRoutes } from './routes.js';
import { messageRoute } from './websocket-route.js';

const actions = webSocketRoutes.map((r) => r.routeKey).filter((key) => !key.startsWith('$'));

/** `$default`: a message with no known action; the client is told what it can send. */
export const handler = messageRoute(z.unknown(), async ({ body }) => {
  const action = (body as { action?: unknown } | null)?.action;
  const named = typeof action === 'string' ? `"${action}" is not an action` : 'The message has no "action"';
  throw new AppError(
    'bad_request',
    `${named}; send {"action": ${actions.map((a) => `"${a}"`).join(' | ')}}.`,
  );
});
