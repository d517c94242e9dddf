import type { ZodError } from 'zod';

/** Machine-readable error codes. The handlers give each one HTTP status (`handlers/error-answer.ts`). */
export const errorCodes = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  /** A concurrent write won; the caller may read again and retry. Internal: never shown to clients. */
  'conflict',
  /** The preview's state does not allow this action (e.g. extending a stopped preview). */
  'invalid_state',
  'quota_exceeded',
  'extension_limit_reached',
  'preview_not_running',
  'payload_too_large',
  'rate_limited',
  'internal',
  'not_implemented',
  'unavailable',
  /** No container runtime answers (Docker down, ECS unreachable): retry later. */
  'runtime_unavailable',
  /** The stage is in maintenance: no launches or recoveries until it ends. */
  'maintenance',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface FieldError {
  /** Where the problem is: `body.resourceTier`, `query.limit`, `path.generationId`, or a variable name. */
  readonly field: string;
  readonly message: string;
}

/**
 * What an error says beyond its message, always an object: the invalid fields under `fields`,
 * other named facts beside it (`{ limit: 3, active: 3 }` for a quota).
 */
export interface ErrorDetails {
  readonly fields?: readonly FieldError[];
  readonly [fact: string]: unknown;
}

/** The one error type of the service. Its message and details are safe to show to clients. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    /** When a retry may succeed, in seconds (429 and 503 answers carry it as `Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** The error as the REST API and the live stream send it. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetails };
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

/** A `validation_failed` error naming the invalid fields. */
export function invalidFields(fields: readonly FieldError[], what = 'The request is invalid.'): AppError {
  return new AppError('validation_failed', what, { fields });
}

export function validationError(error: ZodError, prefix: string, what = 'The request is invalid.'): AppError {
  return invalidFields(fieldErrors(error, prefix), what);
}
