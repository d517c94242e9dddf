import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { lambdaHandler } from '../lambda-handler.js';
import { errorResponse } from '../middleware/error-response.js';
import { services } from '../services.js';
import { asyncApiDocument } from './asyncapi-document.js';
import { asyncApiPage } from './asyncapi-page.js';

/** The live stream's reference as a page, rendered from the AsyncAPI document; public. */
export const handler = lambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>(
  async () => {
    const { publicUrl, websocketUrl } = services().config;
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // The page is self-contained: no script, nothing fetched.
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      },
      body: asyncApiPage(asyncApiDocument({ api: publicUrl, websocket: websocketUrl })),
    };
  },
  errorResponse(() => services().serviceMetrics),
);
