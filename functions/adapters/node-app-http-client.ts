import { Agent, request as httpRequest } from 'node:http';
import type { AppEndpoint, AppHttpClient, AppRequest, AppResponse } from '#core/app-request.js';
import { AppError } from '#core/errors.js';

/** Apps whose connections are kept at once; the least recently used app's pool closes first. */
const maxPools = 256;
/** Connections to one app at once; further requests wait for one to be free. */
const maxSocketsPerApp = 64;
/** Idle connections kept per app. */
const maxIdleSocketsPerApp = 16;
/**
 * An idle connection closes before the app server's own keep-alive timeout (uvicorn's is 5 s)
 * could close it under a request about to be sent on it.
 */
const idleSocketMs = 4000;

/**
 * Plain HTTP to previews' apps, with a deadline and a cap on the response size, over kept-alive
 * connections: a pool per app, so most requests skip the handshake and a stopped preview's
 * connections close with it.
 */
export class NodeAppHttpClient implements AppHttpClient {
  private readonly pools = new Map<string, Agent>();

  /** Closes the connections kept to an app: its preview stopped, or moved to another task. */
  release(endpoint: AppEndpoint): void {
    const origin = originOf(endpoint);
    this.pools.get(origin)?.destroy();
    this.pools.delete(origin);
  }

  private poolOf(endpoint: AppEndpoint): Agent {
    const origin = originOf(endpoint);
    const pool =
      this.pools.get(origin) ??
      new Agent({
        keepAlive: true,
        maxSockets: maxSocketsPerApp,
        maxFreeSockets: maxIdleSocketsPerApp,
        timeout: idleSocketMs,
      });
    // Most recently used last: the first is the one to close when there are too many.
    this.pools.delete(origin);
    this.pools.set(origin, pool);
    if (this.pools.size > maxPools) {
      const [oldest, oldestPool] = this.pools.entries().next().value as [string, Agent];
      oldestPool.destroy();
      this.pools.delete(oldest);
    }
    return pool;
  }

  send(
    endpoint: AppEndpoint,
    appRequest: AppRequest,
    limits: { timeoutMs: number; maxResponseBytes: number },
  ) {
    const started = performance.now();
    const agent = this.poolOf(endpoint);
    return new Promise<AppResponse>((resolve, reject) => {
      const req = httpRequest(
        {
          host: endpoint.host,
          port: endpoint.port,
          method: appRequest.method,
          path: appRequest.target,
          headers: {
            ...appRequest.headers,
            ...(appRequest.body ? { 'content-length': String(appRequest.body.length) } : {}),
          },
          agent,
          timeout: limits.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > limits.maxResponseBytes) {
              req.destroy();
              reject(
                new AppError(
                  'payload_too_large',
                  `The app's response is larger than ${limits.maxResponseBytes} bytes.`,
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              statusCode: res.statusCode ?? 502,
              headers,
              body: Buffer.concat(chunks),
              durationMs: performance.now() - started,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => {
        req.destroy(
          new AppError('unavailable', `The app did not answer within ${limits.timeoutMs / 1000} s.`, {
            reason: 'timeout',
          }),
        );
      });
      req.on('error', (error) => {
        reject(
          error instanceof AppError
            ? error
            : new AppError('unavailable', 'The app could not be reached.', { reason: 'unreachable' }),
        );
      });
      req.end(appRequest.body);
    });
  }
}

function originOf(endpoint: AppEndpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}

export const nodeAppHttpClient = new NodeAppHttpClient();
