import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AppError } from '#core/errors.js';

/** Refuses bodies over `maxBytes` before anything parses them. */
export function bodySizeLimit(maxBytes: () => number): MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: (request) => {
      const { body, isBase64Encoded } = request.event;
      if (body === null || body === undefined) return;
      const size = isBase64Encoded ? Buffer.from(body, 'base64').length : Buffer.byteLength(body, 'utf8');
      const limit = maxBytes();
      if (size > limit) {
        throw new AppError('payload_too_large', `The request body is ${size} bytes; the limit is ${limit}.`, {
          limit,
          size,
        });
      }
    },
  };
}
