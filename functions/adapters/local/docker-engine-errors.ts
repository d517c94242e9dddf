/** Socket errors that mean the Docker engine is not there (stopped, restarting), not that a call failed. */
const unreachableCodes = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** True when a dockerode call failed because the engine could not be reached at all. */
export function isEngineUnreachable(error: unknown): boolean {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  return (typeof code === 'string' && unreachableCodes.has(code)) || statusCode === 503;
}
