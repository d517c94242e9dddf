import { generationPathSchema, logsQuerySchema } from '../../core/api-schemas.js';
import { httpRoute } from './http-route.js';
import { notImplemented } from './not-implemented.js';

export const handler = httpRoute(
  { path: generationPathSchema, query: logsQuerySchema },
  async ({ identity, services, path }) => {
    await services.previews.ownedPreview(identity, path.generationId);
    return notImplemented('Log queries');
  },
);
