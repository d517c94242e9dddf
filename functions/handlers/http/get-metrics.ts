import { generationPathSchema, metricsQuerySchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, query: metricsQuerySchema },
  async ({ identity, services, path, query }) => ({
    statusCode: 200,
    body: await services.metrics.series(identity, path.generationId, query),
  }),
);
