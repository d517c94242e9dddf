import { generationPathSchema, logsQuerySchema } from '#core/api-schemas.js';
import { requireLogs } from '../log-services.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, query: logsQuerySchema },
  async ({ identity, services, path, query }) => ({
    statusCode: 200,
    body: await requireLogs(services.logs).queries.query(identity, path.generationId, query),
  }),
);
