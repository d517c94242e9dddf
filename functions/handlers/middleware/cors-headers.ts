import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * The REST API's CORS policy, one definition for the stack (lib/rest-api.ts: the preflights API
 * Gateway answers, its gateway responses) and for the local gateway that stands in for it.
 */

/** Headers browsers may send cross-origin: the bearer token, JSON bodies and the proxy's preview token. */
export const corsAllowedHeaders = ['Authorization', 'Content-Type', 'X-Preview-Token'];

/** Every method (API Gateway's `Cors.ALL_METHODS`): the proxy passes any of them to the app. */
export const corsAllowedMethods = ['OPTIONS', 'GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD'];

/** How long a browser may reuse a preflight's answer. */
export const corsMaxAgeSeconds = 600;

/** What every answer carries for the allowed origin, errors included. */
export function corsResponseHeaders(origin: string): Record<string, string> {
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/** The preflight answer (204, no body) API Gateway's mock integration gives on every resource. */
export function corsPreflightHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-headers': corsAllowedHeaders.join(','),
    ...corsResponseHeaders(origin),
    'access-control-allow-methods': corsAllowedMethods.join(','),
    'access-control-max-age': String(corsMaxAgeSeconds),
  };
}

/**
 * Lets the SaaS frontend's origin read every answer, errors included. API Gateway answers the
 * preflight itself; the function adds the headers to the actual response.
 */
export function corsHeaders(
  allowedOrigin: () => string | undefined,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const addHeaders = (request: Request<APIGatewayProxyEvent, APIGatewayProxyResult>) => {
    const origin = allowedOrigin();
    if (!origin || !request.response) return;
    request.response.headers = { ...request.response.headers, ...corsResponseHeaders(origin) };
  };
  return { after: addHeaders, onError: addHeaders };
}
