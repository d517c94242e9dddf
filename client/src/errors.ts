/** The service's error codes (docs/api.md, "Errors"); each maps to one HTTP status. */
export const errorCodes = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'invalid_state',
  'quota_exceeded',
  'extension_limit_reached',
  'preview_not_running',
  'payload_too_large',
  'rate_limited',
  'internal',
  'not_implemented',
  'unavailable',
  'runtime_unavailable',
  'maintenance',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** An invalid part of a request: `body.resourceTier`, `query.limit`, `path`, … */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/**
 * What an error says beyond its message, always an object: the invalid fields under `fields`
 * (`validation_failed`), other named facts beside it (`{ limit, active }` for `quota_exceeded`).
 */
export interface ErrorDetails {
  readonly fields?: readonly FieldError[];
  readonly [fact: string]: unknown;
}

/** The one error shape of the service: `{ "error": { code, message, details } }`. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: ErrorDetails };
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  return (
    typeof code === 'string' &&
    typeof message === 'string' &&
    (details === undefined || (typeof details === 'object' && details !== null && !Array.isArray(details)))
  );
}

/**
 * An answer of the service that is not a success. `code` is the service's error code, or
 * `unexpected_answer` for an answer that is not in the error shape (a proxy in between, a crash).
 */
export class PreviewApiError<
  Code extends ErrorCode | 'unexpected_answer' = ErrorCode | 'unexpected_answer',
> extends Error {
  override readonly name = 'PreviewApiError';

  constructor(
    readonly status: number,
    readonly code: Code,
    message: string,
    /** The error's details when it has any; for `unexpected_answer`, `{ body }`: what was answered. */
    readonly details: ErrorDetails | undefined,
    /** Seconds to wait before retrying, from `Retry-After` (429 and 503). */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
  }

  /** True when this is the error `code`: narrows `details` readers to that code. */
  is<C extends ErrorCode>(code: C): this is PreviewApiError<C> {
    return (this.code as string) === code;
  }

  static fromAnswer(status: number, body: unknown, headers: Headers): PreviewApiError {
    const retryAfter = Number(headers.get('retry-after') ?? Number.NaN);
    const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
    if (isErrorBody(body)) {
      return new PreviewApiError(
        status,
        body.error.code,
        body.error.message,
        body.error.details,
        retryAfterSeconds,
      );
    }
    return new PreviewApiError(
      status,
      'unexpected_answer',
      `The service answered ${status} without an error body.`,
      { body },
      retryAfterSeconds,
    );
  }
}

export function isPreviewApiError(error: unknown): error is PreviewApiError {
  return error instanceof PreviewApiError;
}
