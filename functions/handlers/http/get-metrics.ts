import { generationPathSchema, metricsQuerySchema } from '../../core/api-schemas.js';
import { httpRoute } from './http-route.js';
import { notImplemented } from './not-implemented.js';

export const handler = httpRoute(
  { path: generationPathSchema, query: metricsQuerySchema },
  async ({ identity, services, path }) => {
    await services.previews.ownedPreview(identity, path.generationId);
    return notImplemented('Performance metrics');
  },
);
