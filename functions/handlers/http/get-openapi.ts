import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { lambdaHandler } from '../lambda-handler.js';
import { corsHeaders } from '../middleware/cors-headers.js';
import { errorResponse } from '../middleware/error-response.js';
import { jsonResponse } from '../middleware/json-response.js';
import { services } from '../services.js';
import { openApiDocument } from './openapi-document.js';

/** The OpenAPI document; public, like any API's contract. */
export const handler = lambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>(
  async () => jsonResponse(200, openApiDocument(services().config.publicUrl)),
  corsHeaders(() => services().config.allowedOrigin),
  errorResponse(() => services().serviceMetrics),
);
