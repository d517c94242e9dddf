import { PreviewApiError } from '../errors.js';
import { PreviewUnreachableError } from '../client.js';

/** The CLI's exit codes: scripts may rely on them (documented in `preview --help`). */
export const exitCodes = {
  ok: 0,
  /** Anything not listed below: the service's own fault, an unreadable answer. */
  failure: 1,
  /** A wrong command, option or argument (also a 400 from the service). */
  usage: 2,
  /** No valid bearer token, or not yours to use (401, 403). */
  unauthorized: 3,
  /** No such generation or preview (404). */
  notFound: 4,
  /** Refused in the preview's current state: quota, not running, no extensions left (409, 413). */
  refused: 5,
  /** The preview failed, stopped, or was not healthy in time. */
  previewFailed: 6,
  /** The service cannot be reached or asks to retry later (429, 503). */
  unavailable: 7,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** A usage mistake, reported with the command's help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command ran and its outcome is a failure with this exit code (already reported). */
export class CommandOutcome extends Error {
  override readonly name = 'CommandOutcome';

  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommandOutcome) return error.exitCode;
  if (error instanceof UsageError) return exitCodes.usage;
  if (error instanceof PreviewUnreachableError) return exitCodes.unavailable;
  if (!(error instanceof PreviewApiError)) return exitCodes.failure;
  if (error.status === 400) return exitCodes.usage;
  if (error.status === 401 || error.status === 403) return exitCodes.unauthorized;
  if (error.status === 404) return exitCodes.notFound;
  if (error.status === 409 || error.status === 413) return exitCodes.refused;
  if (error.status === 429 || error.status === 503) return exitCodes.unavailable;
  return exitCodes.failure;
}
