import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { tracer } from '#adapters/aws/tracer.js';
import { serviceMetricsNamespace, serviceName } from '#core/service-metrics.js';
import { logger } from './logger.js';

/**
 * What Metrics prints when an invocation buffered no metric. That is nearly every invocation here:
 * the service metrics are published as they happen (powertools-service-metrics.ts), not buffered.
 */
const noBufferedMetrics = 'No application metrics to publish';

/** Metrics' own messages go to the service's log, but for that one. */
const metricsMessages = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) => {
    if (!message.startsWith(noBufferedMetrics)) logger.warn(message);
  },
  error: (message: string) => logger.error(message),
};

/** The invocation's metrics: `ColdStart` once per execution environment, by function name. */
const invocationMetrics = new Metrics({
  namespace: serviceMetricsNamespace,
  serviceName,
  logger: metricsMessages,
});

/** A function's handler. Lambda always passes the context; the local runtime may leave it out. */
export type LambdaHandler<TEvent, TResult> = (event: TEvent, context?: Context) => Promise<TResult>;

/**
 * Every function's handler, REST route or not: its log lines carry the Lambda request id, function
 * and cold start; the invocation is an X-Ray segment (its response is not recorded: it may hold a
 * preview token); metrics are flushed when it ends. `middlewares` run inside these, in order.
 * Outside Lambda the tracer does nothing (see adapters/aws/tracer.ts).
 */
export function lambdaHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  ...middlewares: MiddlewareObj<TEvent, TResult, Error, Context>[]
): LambdaHandler<TEvent, TResult> {
  return middy<TEvent, TResult, Error, Context>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(invocationMetrics, { captureColdStartMetric: true }))
    .use(middlewares)
    .handler(handler) as LambdaHandler<TEvent, TResult>;
}
