import { generationPathSchema } from '#core/api-schemas.js';
import { httpRoute } from './http-route.js';

/** A new preview token for the owner, e.g. after a recovery rotated the old one. */
export const handler = httpRoute({ path: generationPathSchema }, async ({ path, identity, services }) => ({
  statusCode: 200,
  body: await services.previews.rotateToken(identity, path.generationId),
}));
