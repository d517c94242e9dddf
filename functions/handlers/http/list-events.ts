import { generationPathSchema, pageQuerySchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, query: pageQuerySchema },
  async ({ path, query, identity, services }) => ({
    statusCode: 200,
    body: await services.previews.listEvents(identity, path.generationId, query),
  }),
);
