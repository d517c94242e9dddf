import { AppError, type ErrorCode } from '#core/errors.js';

/** The HTTP status of each error code: REST answers and refused WebSocket handshakes. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_state: 409,
  quota_exceeded: 409,
  extension_limit_reached: 409,
  preview_not_running: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
  runtime_unavailable: 503,
  maintenance: 503,
} as const satisfies Record<ErrorCode, number>;

export function statusOf(error: AppError): number {
  return errorStatus[error.code];
}

/** The headers an error answer carries beyond its body: `Retry-After` when the error has one. */
export function errorHeaders(error: AppError): Record<string, string> {
  return error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
}

/**
 * The error as a client sees it. A version clash that outlived its retries is a moment of
 * contention, not a refusal: it answers 503 with `Retry-After`, never 409.
 */
export function clientFacing(error: AppError): AppError {
  if (error.code !== 'conflict') return error;
  return new AppError(
    'unavailable',
    'The preview is changing right now; try again in a moment.',
    undefined,
    1,
  );
}
