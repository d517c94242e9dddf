import type { APIGatewayAuthorizerResult, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import {
  STATUS_CODES,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody, AppError, type ErrorCode } from '#core/errors.js';
import { errorHeaders, statusOf } from '#handlers/error-answer.js';
import { authorizerServices, services } from '#handlers/services.js';
import { routes, type RestRouteName, type RouteDefinition } from '#handlers/http/routes.js';
import { corsPreflightHeaders, corsResponseHeaders } from '#handlers/middleware/cors-headers.js';
import { authorizerModule, restFunctions, type ProxyHandler } from '#handlers/registry.js';
import { TokenBuckets } from './token-buckets.js';
import { localStage, matchResource, proxyEvent, type IncomingRequest } from './api-gateway-event.js';

/** API Gateway's own payload limit; the handlers apply the service's tighter one. */
const maxPayloadBytes = 10 * 1024 * 1024;

const handlerModules = new Map<RestRouteName, Promise<ProxyHandler>>();

/** The route's function from the registry, loaded on first use like a Lambda cold start. */
function loadHandler(name: RestRouteName): Promise<ProxyHandler> {
  let loaded = handlerModules.get(name);
  if (!loaded) {
    loaded = restFunctions[name].module.load().then((m) => m.handler);
    handlerModules.set(name, loaded);
  }
  return loaded;
}

function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The SaaS frontend's origin, when one is configured. */
function allowedOrigin(): string | undefined {
  try {
    return services().config.allowedOrigin;
  } catch {
    // A configuration that does not load allows no origin; the error answer goes out all the same.
    return undefined;
  }
}

/** API Gateway's own answers (gateway responses), in the service's error shape. */
function gatewayError(code: ErrorCode, message: string): APIGatewayProxyResult {
  return appErrorResult(new AppError(code, message));
}

/**
 * An AppError in the service's error shape, with Retry-After when it has one, readable by the
 * allowed origin as the stack's gateway responses are.
 */
function appErrorResult(error: AppError): APIGatewayProxyResult {
  const origin = allowedOrigin();
  return {
    statusCode: statusOf(error),
    headers: {
      'content-type': 'application/json',
      ...errorHeaders(error),
      ...(error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : {}),
      ...(origin ? corsResponseHeaders(origin) : {}),
    },
    body: JSON.stringify(errorBody(error)),
  };
}

/**
 * Every resource of the REST API: each route's path and the resources above it, down to the root.
 * With an allowed origin, the stack gives each of them an OPTIONS method (the preflight).
 */
const apiResources = [
  ...new Set(
    routes.flatMap((route) => {
      const parts = route.path.split('/').filter(Boolean);
      return parts.map((_part, index) => `/${parts.slice(0, index + 1).join('/')}`).concat('/');
    }),
  ),
];

/**
 * A CORS preflight answered as API Gateway's mock integration does: no authorizer, no function, the
 * same headers whatever the request's origin (the browser compares them). Without an allowed origin
 * the stack has no OPTIONS methods: the request goes on like any other.
 */
function preflight(request: IncomingRequest): APIGatewayProxyResult | undefined {
  if (request.method !== 'OPTIONS') return undefined;
  const origin = allowedOrigin();
  if (!origin) return undefined;
  if (!apiResources.some((resource) => matchResource(resource, request.url.pathname))) return undefined;
  return { statusCode: 204, headers: corsPreflightHeaders(origin), body: '' };
}

/**
 * The per-user REST limit (a WAF rate-based rule in AWS): a token bucket per user, or per address
 * for the routes that need no token. Made on first use, once the service's configuration is loaded.
 */
class RequestRateLimit {
  private buckets: TokenBuckets | undefined;

  refusal(key: string): APIGatewayProxyResult | undefined {
    const { requestsPerSecond, requestBurst } = services().config.limits;
    this.buckets ??= new TokenBuckets(requestsPerSecond, requestBurst);
    const retryAfter = this.buckets.take(key);
    if (retryAfter === 0) return undefined;
    return appErrorResult(
      new AppError(
        'rate_limited',
        `Too many requests: at most ${requestsPerSecond} a second (bursts of ${requestBurst}); try again later.`,
        { requestsPerSecond, burst: requestBurst },
        retryAfter,
      ),
    );
  }
}

function findRoute(method: string, path: string) {
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    const parameters = matchResource(route.path, path);
    if (parameters) return { route, parameters };
  }
  return undefined;
}

/**
 * API Gateway keeps an authorizer's Allow for a token for the authorizer's cache TTL and applies it
 * to every route of the stage; the local gateway does the same, and never past the token's `exp`.
 */
const maxCachedTokens = 10_000;
const authorizerCache = new Map<string, { context: Record<string, string>; expiresAt: number }>();

/** How long a decision for a token is kept: the configured TTL, ending at the token's expiry at the latest. */
export function cachedUntil(now: number, cacheSeconds: number, tokenExpiresAt: string | undefined): number {
  const expiry = Number(tokenExpiresAt) * 1000;
  return Math.min(now + cacheSeconds * 1000, Number.isFinite(expiry) ? expiry : now);
}

/** Runs the TOKEN authorizer as API Gateway does: no header → 401 without calling it. */
async function runAuthorizer(
  route: RouteDefinition,
  request: IncomingRequest,
): Promise<{ denied: APIGatewayProxyResult } | { context: Record<string, string> }> {
  const header = request.headers.authorization;
  if (!header) return { denied: gatewayError('unauthorized', 'A valid bearer token is required.') };
  const cached = authorizerCache.get(header);
  if (cached && cached.expiresAt > Date.now()) return { context: cached.context };
  let result: APIGatewayAuthorizerResult;
  try {
    const { handler: authorize } = await authorizerModule.load();
    result = await authorize({
      type: 'TOKEN',
      authorizationToken: header,
      methodArn: `arn:aws:execute-api:local:000000000000:local/${localStage}/${route.method}${route.path}`,
    });
  } catch (error) {
    if (error instanceof Error && error.message === 'Unauthorized') {
      return { denied: gatewayError('unauthorized', 'A valid bearer token is required.') };
    }
    throw error;
  }
  const allowed = result.policyDocument.Statement.some((s) => s.Effect === 'Allow');
  if (!allowed) return { denied: gatewayError('forbidden', 'You are not allowed to call this route.') };
  const context: Record<string, string> = { principalId: result.principalId };
  for (const [key, value] of Object.entries(result.context ?? {})) context[key] = String(value);
  if (authorizerCache.size >= maxCachedTokens) authorizerCache.clear();
  const now = Date.now();
  const expiresAt = cachedUntil(now, authorizerServices().config.jwt.cacheSeconds, context.tokenExpiresAt);
  if (expiresAt > now) authorizerCache.set(header, { context, expiresAt });
  return { context };
}

async function dispatch(
  request: IncomingRequest,
  rateLimit: RequestRateLimit,
): Promise<APIGatewayProxyResult> {
  if (request.body.length > maxPayloadBytes)
    return gatewayError('payload_too_large', 'The request is larger than 10 MB.');
  const preflightAnswer = preflight(request);
  if (preflightAnswer) return preflightAnswer;
  const match = findRoute(request.method, request.url.pathname);
  if (!match) return gatewayError('not_found', `No route for ${request.method} ${request.url.pathname}.`);
  let authorizer: Record<string, string> | undefined;
  if (match.route.authenticated) {
    const outcome = await runAuthorizer(match.route, request);
    if ('denied' in outcome) return outcome.denied;
    authorizer = outcome.context;
  }
  const limited = rateLimit.refusal(
    authorizer?.principalId ? `user:${authorizer.principalId}` : `address:${request.sourceIp}`,
  );
  if (limited) return limited;
  const handler = await loadHandler(match.route.handler);
  return handler(
    proxyEvent(request, match.route, match.parameters, authorizer),
    lambdaContext(match.route.handler),
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Keep reading past the limit only to count; the dispatcher refuses the request.
    if (size <= maxPayloadBytes + 1) chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name.toLowerCase()] = values.map(String);
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/** What the gateway serves besides the REST API: the AWS endpoints it stands in for. */
export interface GatewayExtension {
  /** Answers a request of its own and returns true; false leaves it to the REST API. */
  request?(req: IncomingMessage, res: ServerResponse): boolean;
  /** Takes an upgrade (WebSocket) request of its own and returns true. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

export interface LocalGateway {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** An error as the answer to a client: its own 4xx, or a logged, generic 500. */
function errorResult(error: unknown, what: string): APIGatewayProxyResult {
  if (error instanceof AppError) return appErrorResult(error);
  console.error(`gateway: ${what} failed`, error);
  return gatewayError('internal', 'Something went wrong on our side; try again.');
}

/** Answers a request that never became an HTTP exchange (a refused upgrade) on its raw socket. */
export function writeRawResponse(
  socket: Duplex,
  result: Pick<APIGatewayProxyResult, 'statusCode' | 'headers'> & { body?: string },
): void {
  const body = result.body ?? '';
  const headers = Object.entries(result.headers ?? {})
    .filter(([name]) => !/^(content-type|content-length|connection)$/i.test(name))
    .map(([name, value]) => `${name}: ${String(value)}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${result.statusCode} ${STATUS_CODES[result.statusCode] ?? 'Error'}\r\n${headers}` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Every listener of the server is guarded: whatever a client sends, the worst outcome is its own
 * error answer (or its own socket closed), never an exception that leaves the process.
 */
function serve(
  extensions: readonly GatewayExtension[],
  rateLimit: RequestRateLimit,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.on('error', (error) => console.warn('gateway: request stream failed', error.message));
    res.on('error', (error) => console.warn('gateway: response stream failed', error.message));
    try {
      if (extensions.some((extension) => extension.request?.(req, res))) return;
    } catch (error) {
      send(res, errorResult(error, 'extension'));
      return;
    }
    void (async () => {
      try {
        const body = await readBody(req);
        const url = new URL(req.url ?? '/', 'http://localhost');
        send(
          res,
          await dispatch(
            {
              method: req.method ?? 'GET',
              url,
              headers: req.headers,
              body,
              sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            },
            rateLimit,
          ),
        );
      } catch (error) {
        if (!res.headersSent) send(res, errorResult(error, 'request'));
        else res.destroy();
      }
    })();
  };
}

/** One HTTP server that turns requests into API Gateway events for the service's own handlers. */
export async function startGateway(options: {
  port: number;
  host?: string;
  extensions?: readonly GatewayExtension[];
}): Promise<LocalGateway> {
  const extensions = options.extensions ?? [];
  const server = createServer(serve(extensions, new RequestRateLimit()));
  // A request Node cannot parse (bad request line, header characters): 400 in the one shape.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    writeRawResponse(socket, gatewayError('bad_request', 'The request is not valid HTTP.'));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => console.warn('gateway: upgrade socket failed', error.message));
    try {
      if (!extensions.some((extension) => extension.upgrade?.(req, socket, head))) socket.destroy();
    } catch (error) {
      writeRawResponse(socket, errorResult(error, 'upgrade'));
    }
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  // Accept failures (too many open files) after start are logged; the server keeps listening.
  server.on('error', (error) => console.error('gateway: server error', error));
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Upgraded and half-closed sockets are not HTTP connections any more, but still the server's.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
