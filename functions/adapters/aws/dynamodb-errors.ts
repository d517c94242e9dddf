import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { AppError } from '#core/errors.js';

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** What DynamoDB (and the SDK's retry strategy) call throttling. */
const throttlingErrors = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
]);

/** The connection failed or timed out before DynamoDB answered. */
const networkErrors = new Set(['TimeoutError', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** Seconds a client should wait before retrying a request that met a busy or failing DynamoDB. */
const retryAfterSeconds = 1;

/**
 * Throttling, a 5xx or an unreachable endpoint, still failing after the SDK's retries, becomes the
 * service's retryable `unavailable` (503 with `Retry-After`); anything else is returned unchanged.
 */
export function unavailableIfTransient(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = (error as { code?: string }).code;
  const transient =
    throttlingErrors.has(error.name) ||
    (status !== undefined && status >= 500) ||
    networkErrors.has(error.name) ||
    (code !== undefined && networkErrors.has(code));
  if (!transient) return error;
  return new AppError(
    'unavailable',
    "The service's database is busy or failing; try again in a moment.",
    undefined,
    retryAfterSeconds,
  );
}
