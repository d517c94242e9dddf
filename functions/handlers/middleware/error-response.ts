import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AppError, clientFacing, errorBody } from '../../core/errors.js';
import { logger } from '../logger.js';
import { jsonResponse } from './json-response.js';

/**
 * Turns any error into the service's one error shape. An AppError's message is meant for
 * clients; anything else is logged in full and answered with a generic 500, never a stack trace.
 */
export function errorResponse(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const error = request.error;
      const appError =
        error instanceof AppError
          ? clientFacing(error)
          : new AppError('internal', 'Something went wrong on our side; try again.');
      if (!(error instanceof AppError) || appError.code === 'internal' || appError.code === 'unavailable') {
        logger.error('request failed', {
          error,
          path: request.event.path,
          method: request.event.httpMethod,
          requestId: request.event.requestContext?.requestId,
        });
      }
      const retryAfter: Record<string, string> =
        appError.retryAfterSeconds === undefined ? {} : { 'retry-after': String(appError.retryAfterSeconds) };
      request.response = jsonResponse(appError.status, errorBody(appError), retryAfter);
    },
  };
}
