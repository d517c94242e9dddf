import { generationPathSchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute({ path: generationPathSchema }, async ({ path, identity, services }) => ({
  statusCode: 200,
  body: await services.previews.status(identity, path.generationId),
}));
