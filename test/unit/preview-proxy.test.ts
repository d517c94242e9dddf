import { describe, expect, it } from 'vitest';
import type { AppResponse } from '#core/app-request.js';
import { AppError } from '#core/errors.js';
import { hashToken } from '#core/ids.js';
import type { RequestSample } from '#core/metrics.js';
import type { PreviewRecord } from '#core/preview.js';
import type { ServiceMetricName, ServiceMetrics } from '#core/service-metrics.js';
import { PreviewProxy } from '#core/services/preview-proxy.js';
import { FakeApp, generationsOf, json } from '../support/fake-app.js';
import { ManualClock, previewRecord } from '../support/in-memory.js';
import { previewServiceInMemory } from '../support/preview-service.js';

const identity = { userId: 'user-1', tier: 'pro' as const };
const token = 'preview-token-of-p1';

function world() {
  const clock = new ManualClock();
  const { service, previews } = previewServiceInMemory({ clock });
  const app = new FakeApp();
  const recorded: { previewId: string; sample: RequestSample }[] = [];
  const counted: ServiceMetricName[] = [];
  const serviceMetrics: ServiceMetrics = {
    count: (name) => counted.push(name),
    milliseconds: () => undefined,
    gauge: () => undefined,
  };
  const generations = generationsOf({
    g1: {
      env: {
        DATABASE_PASSWORD: 'hunter2-hunter2',
        UPSTREAM_URL: 'postgres://app:s3cret-pass@db:5432/app',
        GREETING: 'hello',
      },
    },
  });
  const proxy = new PreviewProxy({
    service,
    generations,
    client: app,
    requests: {
      record: async (previewId: string, sample: RequestSample) => {
        recorded.push({ previewId, sample });
      },
    },
    clock,
    serviceMetrics,
  });
  const preview = (fields: Partial<PreviewRecord> = {}) =>
    previews.put(
      previewRecord({
        previewId: 'p1',
        generationId: 'g1',
        status: 'healthy',
        tokenHash: hashToken(token),
        endpoint: { host: '127.0.0.1', port: 41000 },
        ...fields,
      }),
    );
  return { app, proxy, recorded, counted, preview };
}

const get = (path: string, extra: Partial<Parameters<PreviewProxy['forward']>[2]> = {}) => ({
  method: 'GET',
  path,
  headers: {},
  ...extra,
});

describe('PreviewProxy.forward', () => {
  it("sends the request to the preview's endpoint without the service's credentials or hop-by-hop headers", async () => {
    const { app, proxy, preview } = world();
    preview();

    await proxy.forward(identity, 'g1', {
      method: 'POST',
      path: '/todos',
      query: { done: 'true', tag: ['a', 'b'] },
      headers: {
        Authorization: 'Bearer service-jwt',
        'X-Preview-Token': token,
        Connection: 'keep-alive',
        Host: 'api.example.com',
        'X-Forwarded-For': '10.0.0.1',
        'Content-Type': 'application/json',
        'X-Request-Id': 'r-1',
      },
      body: Buffer.from('{"title":"x"}'),
    });

    expect(app.requests).toHaveLength(1);
    expect(app.requests[0]?.endpoint).toEqual({ host: '127.0.0.1', port: 41000 });
    expect(app.requests[0]?.request).toEqual({
      method: 'POST',
      target: '/todos?done=true&tag=a&tag=b',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      body: Buffer.from('{"title":"x"}'),
    });
  });

  it("answers with the app's response less its cookies and hop-by-hop headers, and measures it", async () => {
    const { app, proxy, recorded, preview } = world();
    preview();
    app.answer = () =>
      json(201, { id: 1 }, { 'set-cookie': 'session=abc', connection: 'close', 'X-Total': '1' });

    const response = await proxy.forward(identity, 'g1', get('/todos', { body: Buffer.from('12345') }));

    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ 'content-type': 'application/json', 'x-total': '1' });
    expect(recorded).toEqual([
      {
        previewId: 'p1',
        sample: {
          at: new Date('2026-01-01T12:00:00.000Z'),
          statusCode: 201,
          durationMs: 12.345,
          bytesIn: 5,
          bytesOut: Buffer.byteLength('{"id":1}'),
        },
      },
    ]);
  });

  it('counts the apps’ own server errors apart, and not their client errors', async () => {
    const { app, proxy, counted, preview } = world();
    preview();
    app.answer = () => json(500, {});
    await proxy.forward(identity, 'g1', get('/boom'));
    app.answer = () => json(404, {});
    await proxy.forward(identity, 'g1', get('/missing'));

    expect(counted).toEqual(['AppServerErrors']);
  });

  it('records a request the app never answered, with why, and passes the error on', async () => {
    const { app, proxy, recorded, preview } = world();
    preview();
    app.answer = () => {
      throw new AppError('unavailable', 'The app did not answer in time.', { reason: 'timeout' });
    };
    await expect(proxy.forward(identity, 'g1', get('/slow'))).rejects.toMatchObject({ code: 'unavailable' });
    app.answer = () => {
      throw new Error('connection refused');
    };
    await expect(proxy.forward(identity, 'g1', get('/down'))).rejects.toThrow('connection refused');

    expect(recorded.map((r) => [r.sample.statusCode, r.sample.errorType, r.sample.bytesOut])).toEqual([
      [undefined, 'timeout', 0],
      [undefined, 'unreachable', 0],
    ]);
  });

  it("does not measure the service's own reads", async () => {
    const { proxy, recorded, counted, app, preview } = world();
    preview();
    app.answer = () => json(503, {});

    await proxy.forward(identity, 'g1', get('/openapi.json', { metered: false }));

    expect(recorded).toEqual([]);
    expect(counted).toEqual([]);
  });

  it.each(['launching', 'stopping', 'stopped', 'failed'] as const)(
    'refuses a preview that is %s, and sends nothing',
    async (status) => {
      const { app, proxy, preview } = world();
      preview({ status });

      await expect(proxy.forward(identity, 'g1', get('/'))).rejects.toMatchObject({
        code: 'preview_not_running',
        details: { status },
      });
      expect(app.requests).toEqual([]);
    },
  );

  it('refuses a serving preview that has no endpoint yet', async () => {
    const { app, proxy, preview } = world();
    preview({ status: 'running', endpoint: undefined });

    await expect(proxy.forward(identity, 'g1', get('/'))).rejects.toMatchObject({
      code: 'preview_not_running',
    });
    expect(app.requests).toEqual([]);
  });

  it('accepts only the current preview token, when one is presented', async () => {
    const { app, proxy, preview } = world();
    preview();

    await expect(
      proxy.forward(identity, 'g1', get('/', { previewToken: 'an-old-token' })),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    await proxy.forward(identity, 'g1', get('/', { previewToken: token }));
    expect(app.requests).toHaveLength(1);
  });

  it("treats another user's preview as none", async () => {
    const { app, proxy, preview } = world();
    preview();

    await expect(proxy.forward({ userId: 'user-2', tier: 'pro' }, 'g1', get('/'))).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(app.requests).toEqual([]);
  });

  it.each(['/../etc/passwd', '//evil.example.com/', 'http://evil.example.com/', '/a/%2e%2e/b'])(
    'sends no request for the path %s',
    async (path) => {
      const { app, proxy, preview } = world();
      preview();

      await expect(proxy.forward(identity, 'g1', get(path))).rejects.toMatchObject({
        code: 'validation_failed',
      });
      expect(app.requests).toEqual([]);
    },
  );
});

describe('PreviewProxy.testRequest', () => {
  it('sends a JSON body as JSON and answers a JSON response as data', async () => {
    const { app, proxy, preview } = world();
    preview();
    app.answer = () => json(200, { ok: true });

    const answer = await proxy.testRequest(identity, 'g1', {
      method: 'POST',
      path: '/items',
      body: { name: 'a' },
    });

    expect(app.requests[0]?.request.headers['content-type']).toBe('application/json');
    expect(app.requests[0]?.request.body?.toString()).toBe('{"name":"a"}');
    expect(answer).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: { ok: true },
      durationMs: 12.3,
    });
  });

  it("keeps the caller's content type, and sends a string body as text", async () => {
    const { app, proxy, preview } = world();
    preview();

    await proxy.testRequest(identity, 'g1', {
      method: 'POST',
      path: '/raw',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    await proxy.testRequest(identity, 'g1', { method: 'POST', path: '/text', body: 'plain' });

    expect(app.requests.map((r) => [r.request.headers['content-type'], r.request.body?.toString()])).toEqual([
      ['application/x-www-form-urlencoded', 'a=1'],
      ['text/plain', 'plain'],
    ]);
  });

  it('answers text as text, broken JSON as the text it is, and binary as base64', async () => {
    const { app, proxy, preview } = world();
    preview();
    const bodies: AppResponse[] = [
      { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('hi'), durationMs: 1 },
      {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('{no'),
        durationMs: 1,
      },
      {
        statusCode: 200,
        headers: { 'content-type': 'image/png' },
        body: Buffer.from([0, 1, 2]),
        durationMs: 1,
      },
    ];
    app.answer = () => bodies.shift() as AppResponse;

    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push((await proxy.testRequest(identity, 'g1', { method: 'GET', path: '/' })).body);

    expect(answers).toEqual(['hi', '{no', { base64: Buffer.from([0, 1, 2]).toString('base64') }]);
  });
});

describe('PreviewProxy.endpoints', () => {
  it("lists the operations of the app's OpenAPI document, leaving out what is not a method", async () => {
    const { app, proxy, preview } = world();
    preview();
    app.answer = (request) =>
      request.target === '/openapi.json'
        ? json(200, {
            openapi: '3.1.0',
            paths: {
              '/items': {
                parameters: [],
                get: { summary: 'List items', operationId: 'list_items' },
                post: { description: 'Create an item' },
              },
              '/health': { get: {} },
            },
          })
        : json(404, {});

    const result = await proxy.endpoints(identity, 'g1');

    expect(result).toEqual({
      generationId: 'g1',
      source: '/openapi.json',
      endpoints: [
        { method: 'GET', path: '/items', description: 'List items', operationId: 'list_items' },
        { method: 'POST', path: '/items', description: 'Create an item' },
        { method: 'GET', path: '/health' },
      ],
    });
  });

  it('says so when the app serves no OpenAPI document', async () => {
    const { app, proxy, preview } = world();
    preview();
    app.answer = () => json(404, { detail: 'Not Found' });

    await expect(proxy.endpoints(identity, 'g1')).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('/openapi.json (status 404)'),
    });
  });

  it('says so when the document is not an OpenAPI document', async () => {
    const { app, proxy, preview } = world();
    preview();
    app.answer = () => json(200, { paths: 'none' });

    await expect(proxy.endpoints(identity, 'g1')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('answers 404 for a generation that does not exist', async () => {
    const { app, proxy } = world();
    await expect(proxy.endpoints(identity, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(app.requests).toEqual([]);
  });
});

describe('PreviewProxy.config', () => {
  it('shows the environment with secret values hidden and the limits the preview runs with', async () => {
    const { proxy, preview } = world();
    preview({ appliedLimits: { memoryMb: 512, cpu: 1, reason: 'the engine has 1 CPU' } });

    const config = await proxy.config(identity, 'g1');

    expect(config.env.DATABASE_PASSWORD).toBe('***');
    expect(config.env.UPSTREAM_URL).not.toContain('s3cret-pass');
    expect(config.env.UPSTREAM_URL).toContain('db:5432/app');
    expect(config.env.GREETING).toBe('hello');
    expect(config.limits).toMatchObject({ memoryMb: 512, cpuCores: 1, storage: '1GB' });
    expect(config.database).toMatchObject({ type: 'none', url: null });
  });
});
