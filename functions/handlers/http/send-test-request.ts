import { generationPathSchema, testRequestSchema } from '../../core/api-schemas.js';
import { proxiedAnswerHeaders } from '../../core/app-request.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, body: testRequestSchema },
  async ({ path, body, identity, services }) => ({
    statusCode: 200,
    body: await services.proxy.testRequest(identity, path.generationId, body),
    headers: { ...proxiedAnswerHeaders },
  }),
);
