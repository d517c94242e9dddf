import { z } from 'zod';
import { proxyPathSchema } from '#core/api-schemas.js';
import { proxiedAnswerHeaders } from '#core/app-request.js';
import { recordProxyTimes } from '#core/service-metrics.js';
import { httpRoute } from './http-route.js';

/** Any query string goes to the app as it is, so none is validated here. */
const anyQuery = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

export const handler = httpRoute(
  { path: proxyPathSchema, query: anyQuery },
  async ({ path, query, identity, services, event }) => {
    const started = performance.now();
    const headers = event.headers ?? {};
    const previewToken = Object.entries(headers).find(
      ([name]) => name.toLowerCase() === 'x-preview-token',
    )?.[1];
    const response = await services.proxy.forward(identity, path.generationId, {
      method: event.httpMethod,
      path: path.proxy,
      query,
      headers,
      ...(event.body ? { body: Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') } : {}),
      ...(previewToken ? { previewToken } : {}),
    });
    const answer = {
      statusCode: response.statusCode,
      headers: { ...response.headers, ...proxiedAnswerHeaders },
      rawBody: response.body,
    };
    recordProxyTimes(services.serviceMetrics, performance.now() - started, response.durationMs);
    return answer;
  },
);
