import type { Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '#core/errors.js';
import { logger } from '#handlers/logger.js';
import { bodySizeLimit } from '#handlers/middleware/body-size-limit.js';
import { corsHeaders } from '#handlers/middleware/cors-headers.js';
import { errorResponse } from '#handlers/middleware/error-response.js';

function request(
  event: Partial<APIGatewayProxyEvent>,
  error?: Error,
): Request<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    event: event as APIGatewayProxyEvent,
    context: {} as Context,
    response: undefined,
    error: error ?? null,
    internal: {},
  } as unknown as Request<APIGatewayProxyEvent, APIGatewayProxyResult>;
}

describe('errorResponse', () => {
  it('renders an AppError in the one error shape with its status', async () => {
    const req = request({}, new AppError('quota_exceeded', 'Too many.', { limit: 3 }));
    await errorResponse().onError?.(req);
    expect(req.response?.statusCode).toBe(409);
    expect(JSON.parse(req.response?.body ?? '')).toEqual({
      error: { code: 'quota_exceeded', message: 'Too many.', details: { limit: 3 } },
    });
  });

  it('tells when to retry a 503 or 429 with Retry-After', async () => {
    const req = request({}, new AppError('runtime_unavailable', 'Docker is down.', undefined, 30));
    await errorResponse().onError?.(req);
    expect(req.response?.statusCode).toBe(503);
    expect(req.response?.headers?.['retry-after']).toBe('30');
    const plain = request({}, new AppError('not_found', 'Nothing here.'));
    await errorResponse().onError?.(plain);
    expect(plain.response?.headers?.['retry-after']).toBeUndefined();
  });

  it('answers a version clash that outlived its retries as a retryable 503, never 409', async () => {
    const log = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const req = request({}, new AppError('conflict', 'The preview changed meanwhile.'));
    await errorResponse().onError?.(req);
    log.mockRestore();
    expect(req.response?.statusCode).toBe(503);
    expect(req.response?.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(req.response?.body ?? '').error.code).toBe('unavailable');
  });

  it('hides anything else behind a generic 500 and logs it', async () => {
    const log = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const req = request({ path: '/x', httpMethod: 'GET' }, new Error('secret connection string in stack'));
    await errorResponse().onError?.(req);
    expect(req.response?.statusCode).toBe(500);
    expect(req.response?.body).not.toContain('secret');
    expect(JSON.parse(req.response?.body ?? '').error.code).toBe('internal');
    expect(log).toHaveBeenCalledOnce();
  });
});

describe('errorResponse counts the 5xx the service answered itself', () => {
  it('one per 5xx, by code; none for 4xx or maintenance', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const counted: [string, Record<string, string> | undefined][] = [];
    const metrics = {
      count: (name: string, dimensions?: Record<string, string>) => counted.push([name, dimensions]),
      milliseconds: () => undefined,
      gauge: () => undefined,
    };
    const middleware = errorResponse(() => metrics);
    for (const error of [
      new Error('boom'),
      new AppError('runtime_unavailable', 'Docker is down.', undefined, 30),
      new AppError('maintenance', 'In maintenance.', undefined, 300),
      new AppError('quota_exceeded', 'Too many.'),
      new AppError('not_found', 'Nothing here.'),
    ]) {
      await middleware.onError?.(request({}, error));
    }
    expect(counted).toEqual([
      ['ServerErrors', { code: 'internal' }],
      ['ServerErrors', { code: 'runtime_unavailable' }],
    ]);
    vi.restoreAllMocks();
  });

  it('still answers when the metrics cannot be had', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const req = request({}, new Error('boom'));
    await errorResponse(() => {
      throw new Error('Invalid configuration');
    }).onError?.(req);
    expect(req.response?.statusCode).toBe(500);
    vi.restoreAllMocks();
  });
});

describe('bodySizeLimit', () => {
  const limit = bodySizeLimit(() => 10);

  it('lets a body within the limit through', async () => {
    await expect(Promise.resolve(limit.before?.(request({ body: '0123456789' })))).resolves.toBeUndefined();
    await expect(Promise.resolve(limit.before?.(request({ body: null })))).resolves.toBeUndefined();
  });

  it('refuses a larger body with 413, counting bytes not characters', async () => {
    expect(() => limit.before?.(request({ body: 'ééééé é' }))).toThrow(AppError);
    expect(() =>
      limit.before?.(request({ body: Buffer.alloc(11).toString('base64'), isBase64Encoded: true })),
    ).toThrow(/11 bytes; the limit is 10/);
  });
});

describe('corsHeaders', () => {
  it('lets the configured origin read answers and errors alike', async () => {
    const cors = corsHeaders(() => 'https://app.example.com');
    const ok = request({});
    ok.response = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
    await cors.after?.(ok);
    expect(ok.response.headers).toEqual({
      'content-type': 'application/json',
      'access-control-allow-origin': 'https://app.example.com',
      vary: 'Origin',
    });
    const failed = request({}, new AppError('not_found', 'Nothing here.'));
    await errorResponse().onError?.(failed);
    await cors.onError?.(failed);
    expect(failed.response?.headers?.['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('adds nothing when no origin is configured', async () => {
    const ok = request({});
    ok.response = { statusCode: 200, headers: {}, body: '' };
    await corsHeaders(() => undefined).after?.(ok);
    expect(ok.response.headers).toEqual({});
  });
});
