import { z } from 'zod';
import { httpRoute } from './http-route.js';

export const handler = httpRoute({ path: z.object({}).strict() }, async ({ identity, services }) => ({
  statusCode: 200,
  body: await services.previews.listPreviews(identity),
}));
