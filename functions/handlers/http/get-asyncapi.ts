import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { lambdaHandler } from '../lambda-handler.js';
import { corsHeaders } from '../middleware/cors-headers.js';
import { errorResponse } from '../middleware/error-response.js';
import { jsonResponse } from '../middleware/json-response.js';
import { services } from '../services.js';
import { asyncApiDocument } from './asyncapi-document.js';

/** The AsyncAPI document of the live stream; public, like the OpenAPI document. */
export const handler = lambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>(
  async () => {
    const { publicUrl, websocketUrl } = services().config;
    return jsonResponse(200, asyncApiDocument({ api: publicUrl, websocket: websocketUrl }));
  },
  corsHeaders(() => services().config.allowedOrigin),
  errorResponse(() => services().serviceMetrics),
);
