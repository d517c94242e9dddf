import { generationPathSchema, launchQuerySchema, launchRequestSchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, query: launchQuerySchema, body: launchRequestSchema },
  async ({ path, query, body, identity, services }) => {
    const result = await services.previews.launch(identity, path.generationId, body, query.wait ?? 0);
    // A new launch is accepted and goes on in the background; an existing live preview is simply returned.
    return { statusCode: result.outcome === 'launched' ? 202 : 200, body: result.body };
  },
);
