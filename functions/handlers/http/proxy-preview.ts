import { z } from 'zod';
import { proxyPathSchema } from '../../core/api-schemas.js';
import { httpRoute } from './http-route.js';
import { notImplemented } from './not-implemented.js';

/** The proxy passes any query string through to the app, so none is validated here. */
export const handler = httpRoute(
  { path: proxyPathSchema, query: z.record(z.string(), z.unknown()) },
  async ({ identity, services, path }) => {
    await services.previews.ownedPreview(identity, path.generationId);
    return notImplemented('The HTTP proxy to previews');
  },
);
