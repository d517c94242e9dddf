import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AppError, errorBody } from '#core/errors.js';
import { clientFacing, errorHeaders, statusOf } from '../error-answer.js';
import { serviceMetricNames, type ServiceMetrics } from '#core/service-metrics.js';
import { logger } from '../logger.js';
import { jsonResponse } from './json-response.js';

/**
 * Turns any error into the service's one error shape. An AppError's message is meant for
 * clients; anything else is logged in full and answered with a generic 500, never a stack trace.
 * Every 5xx answered here is the service's own (`ServerErrors`, which pages) — except `maintenance`,
 * which an operator asked for; an app's 5xx relayed by the proxy is a normal answer and never gets here.
 */
export function errorResponse(
  serviceMetrics?: () => ServiceMetrics,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
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
      const status = statusOf(appError);
      if (status >= 500 && appError.code !== 'maintenance') countServerError(serviceMetrics, appError);
      request.response = jsonResponse(status, errorBody(appError), errorHeaders(appError));
    },
  };
}

function countServerError(serviceMetrics: (() => ServiceMetrics) | undefined, appError: AppError): void {
  try {
    serviceMetrics?.().count(serviceMetricNames.serverErrors, { code: appError.code });
  } catch (error) {
    // The services themselves could not be built (the error being answered, most likely): the answer matters more.
    logger.error('a server error could not be counted', { error });
  }
}
