import { invalidFields } from './errors.js';

/** A request to a preview's app, as the proxy forwards it. */
export interface AppRequest {
  readonly method: string;
  /** Path and query string, always relative to the app's root: `/todos?done=true`. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface AppResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly durationMs: number;
}

/** Where a preview's app answers, from where the service runs. */
export interface AppEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Sends requests to a preview's app; the only way anything reaches it. */
export interface AppHttpClient {
  send(
    endpoint: AppEndpoint,
    request: AppRequest,
    limits: { timeoutMs: number; maxResponseBytes: number },
  ): Promise<AppResponse>;
  /** Closes what is kept open to an app that stopped or moved (its pooled connections). */
  release?(endpoint: AppEndpoint): void;
}

export const proxyLimits = { timeoutMs: 30_000, maxResponseBytes: 6 * 1024 * 1024 } as const;

const invalidPath = (message: string) => invalidFields([{ field: 'path', message }]);

/**
 * The path to request from the app. Only a path reaches the app: no scheme, no host, nothing
 * that climbs out of the root once decoded.
 */
export function appPath(raw: string): string {
  const path = raw.startsWith('/') ? raw : `/${raw}`;
  if (/^\/\//.test(path) || /^\/?[a-z][a-z0-9+.-]*:/i.test(raw))
    throw invalidPath('must be a path, not a URL');
  if (/[\\\s#]/.test(path) || [...path].some((c) => c.charCodeAt(0) < 0x20)) {
    throw invalidPath('contains characters a path may not');
  }
  let decoded: string;
  let encoded: string;
  try {
    decoded = decodeURIComponent(path);
    // HTTP request targets are ASCII: other characters travel percent-encoded.
    encoded = path.replace(/[^\x21-\x7e]+/g, (text) => encodeURI(text));
  } catch {
    throw invalidPath('is not validly percent-encoded');
  }
  if (decoded.split(/[/\\]/).some((segment) => segment === '..' || segment === '.')) {
    throw invalidPath('may not contain "." or ".." segments');
  }
  return encoded;
}

/** A query string from parameters, repeated keys kept. */
export function queryString(query: Readonly<Record<string, string | readonly string[]>> | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const v of typeof value === 'string' ? [value] : value) params.append(name, v);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Headers that describe one hop, not the message; never forwarded either way. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** The caller's credentials for this service are not the app's business. */
const serviceHeaders = /^(authorization|x-preview-token|x-amz-|x-amzn-|x-forwarded-|forwarded$|via$)/i;

export function forwardedRequestHeaders(
  headers: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || hopByHop.has(lower) || serviceHeaders.test(lower)) continue;
    result[lower] = value;
  }
  return result;
}

/**
 * The app's response headers that reach the caller. Cookies are dropped: the app answers under
 * the service's origin, where a cookie it sets would be sent with the service's own requests.
 */
export function forwardedResponseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!hopByHop.has(lower) && lower !== 'set-cookie') result[lower] = value;
  }
  return result;
}

/**
 * Headers of every answer that carries an app's response: the browser neither guesses its content
 * type nor runs it as a page of the service's origin (no scripts, no same-origin access).
 */
export const proxiedAnswerHeaders: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': 'sandbox',
};

const textContent = /^(text\/|application\/([\w.+-]+\+)?(json|xml|javascript|x-www-form-urlencoded))/i;

export function isTextContent(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === '' || textContent.test(contentType);
}
