import type { ZodError } from 'zod';

/** Machine-readable error codes; each maps to exactly one HTTP status. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  /** A concurrent write won; the caller may read again and retry. Internal: never shown to clients. */
  conflict: 409,
  /** The preview's state does not allow this action (e.g. extending a stopped preview). */
  invalid_state: 409,
  quota_exceeded: 409,
  extension_limit_reached: 409,
  preview_not_running: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
  /** No container runtime answers (Docker down, ECS unreachable): retry later. */
  runtime_unavailable: 503,
  /** The stage is in maintenance: no launches or recoveries until it ends. */
  maintenance: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface FieldError {
  /** Where the problem is: `body.resourceTier`, `query.limit`, `path.generationId`, or a variable name. */
  readonly field: string;
  readonly message: string;
}

/** The one error type of the service. Its message and details are safe to show to clients. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldError[] | Record<string, unknown>,
    /** When a retry may succeed: sent as `Retry-After` (seconds) with 429 and 503 answers. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = errorStatus[code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: AppError['details'] };
}

/** The headers an error answer carries beyond its body: `Retry-After` when the error has one. */
export function errorHeaders(error: AppError): Record<string, string> {
  return error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
}

export function errorBody(error: AppError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
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

/** Field-level details from a zod error, prefixed by where the input came from. */
export function fieldErrors(error: ZodError, prefix: string): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    return unknownKeys.length > 0
      ? { field: path, message: `Unknown field(s): ${unknownKeys.join(', ')}.` }
      : { field: path, message: issue.message };
  });
}

export function validationError(error: ZodError, prefix: string, what = 'The request is invalid.'): AppError {
  return new AppError('validation_failed', what, fieldErrors(error, prefix));
}
