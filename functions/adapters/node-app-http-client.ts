import { Agent, request as httpRequest } from 'node:http';
import type { AppHttpClient, AppRequest, AppResponse } from '../core/app-request.js';
import { AppError } from '../core/errors.js';

/** Keep-alive connections to the apps: most of a proxied request's overhead is otherwise the handshake. */
const agent = new Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 10_000 });

/** Plain HTTP to a preview's app, with a deadline and a cap on the response size. */
export const nodeAppHttpClient: AppHttpClient = {
  send(endpoint, appRequest: AppRequest, limits) {
    const started = performance.now();
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
  },
};
