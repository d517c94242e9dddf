import { comparePathSchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute({ path: comparePathSchema }, async ({ identity, services, path }) => ({
  statusCode: 200,
  body: await services.comparison.compare(identity, path.generationId, path.otherVersionId),
}));
