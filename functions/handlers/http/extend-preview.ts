import { extendRequestSchema, generationPathSchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, body: extendRequestSchema },
  async ({ path, body, identity, services }) => ({
    statusCode: 200,
    body: await services.previews.extend(identity, path.generationId, body.duration),
  }),
);
