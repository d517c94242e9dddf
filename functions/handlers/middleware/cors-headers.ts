import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

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
    request.response.headers = {
      ...request.response.headers,
      'access-control-allow-origin': origin,
      vary: 'Origin',
    };
  };
  return { after: addHeaders, onError: addHeaders };
}
