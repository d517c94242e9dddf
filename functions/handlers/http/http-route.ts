import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { emptyQuerySchema } from '#core/api-schemas.js';
import type { Identity } from '#core/preview.js';
import { bodySizeLimit } from '../middleware/body-size-limit.js';
import { corsHeaders } from '../middleware/cors-headers.js';
import { errorResponse } from '../middleware/error-response.js';
import { jsonResponse, rawResponse } from '../middleware/json-response.js';
import { lambdaHandler } from '../lambda-handler.js';
import { callerIdentity, jsonBody, parsePart, queryParameters } from '../request-input.js';
import { services, type Services } from '../services.js';

export interface RouteInput<P, Q, B> {
  readonly path: P;
  readonly query: Q;
  readonly body: B;
  readonly identity: Identity;
  readonly services: Services;
  readonly event: APIGatewayProxyEvent;
}

export interface RouteResult {
  readonly statusCode: number;
  /** Serialised as JSON. */
  readonly body?: unknown;
  /** Sent as it is (the proxy): as text when its content type is textual, else base64. */
  readonly rawBody?: Buffer;
  readonly headers?: Record<string, string>;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  readonly path: P;
  readonly query?: Q;
  readonly body?: B;
}

/**
 * A REST route as a Lambda handler (lambda-handler.ts): size limit, validation of path, query and
 * body (400 with field details), the caller's identity, and one error shape for everything that
 * goes wrong.
 */
export function httpRoute<
  P extends z.ZodType,
  Q extends z.ZodType = typeof emptyQuerySchema,
  B extends z.ZodType = z.ZodUndefined,
>(
  spec: RouteSpec<P, Q, B>,
  run: (input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>>) => Promise<RouteResult>,
) {
  return lambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event) => {
      const identity = callerIdentity(event);
      const input = {
        path: parsePart(spec.path, event.pathParameters ?? {}, 'path'),
        query: parsePart(spec.query ?? emptyQuerySchema, queryParameters(event), 'query'),
        body: spec.body ? parsePart(spec.body, jsonBody(event), 'body') : undefined,
      };
      const result = await run({ ...input, identity, services: services(), event } as RouteInput<
        z.infer<P>,
        z.infer<Q>,
        z.infer<B>
      >);
      if (result.rawBody) return rawResponse(result.statusCode, result.rawBody, result.headers ?? {});
      return jsonResponse(result.statusCode, result.body, result.headers);
    },
    corsHeaders(() => services().config.allowedOrigin),
    errorResponse(() => services().serviceMetrics),
    bodySizeLimit(() => services().config.maxBodyBytes),
  );
}
