import { generationPathSchema, testRequestSchema } from '#core/api-schemas.js';
import { proxiedAnswerHeaders } from '#core/app-request.js';
import { recordProxyTimes } from '#core/service-metrics.js';
import { httpRoute } from './http-route.js';

export const handler = httpRoute(
  { path: generationPathSchema, body: testRequestSchema },
  async ({ path, body, identity, services }) => {
    const started = performance.now();
    const answer = await services.proxy.testRequest(identity, path.generationId, body);
    recordProxyTimes(services.serviceMetrics, performance.now() - started, answer.durationMs);
    return { statusCode: 200, body: answer, headers: { ...proxiedAnswerHeaders } };
  },
);
