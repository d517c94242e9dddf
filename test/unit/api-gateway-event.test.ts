import { describe, expect, it } from 'vitest';
import { routes } from '#handlers/http/routes.js';
import { matchResource, proxyEvent } from '#local/api-gateway-event.js';

describe('local gateway events', () => {
  it('matches resource paths like API Gateway', () => {
    const r = '/api/generations/{generationId}/preview/status';
    expect(matchResource(r, '/api/generations/g1/preview/status')).toEqual({ generationId: 'g1' });
    expect(matchResource(r, '/api/generations/g1/preview')).toBeUndefined();
    expect(matchResource(r, '/api/generations/g1/preview/status/x')).toBeUndefined();
    const proxy = '/api/generations/{generationId}/preview/proxy/{proxy+}';
    expect(matchResource(proxy, '/api/generations/g1/preview/proxy/api/users/7')).toEqual({
      generationId: 'g1',
      proxy: 'api/users/7',
    });
    expect(matchResource(proxy, '/api/generations/g1/preview/proxy')).toBeUndefined();
  });

  it('builds a v1 proxy event with query, headers, body and authorizer context', () => {
    const route = routes.find((r) => r.handler === 'launch-preview');
    if (!route) throw new Error('route missing');
    const event = proxyEvent(
      {
        method: 'POST',
        url: new URL('http://localhost/api/generations/g1/preview/launch?wait=5&tag=a&tag=b'),
        headers: { 'content-type': 'application/json', 'x-many': ['1', '2'] },
        body: Buffer.from('{"restart":true}'),
        sourceIp: '127.0.0.1',
      },
      route,
      { generationId: 'g1' },
      { principalId: 'alice', tier: 'free' },
    );
    expect(event).toMatchObject({
      resource: '/api/generations/{generationId}/preview/launch',
      path: '/api/generations/g1/preview/launch',
      httpMethod: 'POST',
      pathParameters: { generationId: 'g1' },
      queryStringParameters: { wait: '5', tag: 'b' },
      multiValueQueryStringParameters: { wait: ['5'], tag: ['a', 'b'] },
      multiValueHeaders: { 'x-many': ['1', '2'] },
      body: '{"restart":true}',
      isBase64Encoded: false,
      requestContext: {
        authorizer: { principalId: 'alice', tier: 'free' },
        stage: 'local',
        httpMethod: 'POST',
      },
    });
  });

  it('base64-encodes binary bodies', () => {
    const route = routes[0];
    if (!route) throw new Error('route missing');
    const body = Buffer.from([0, 255, 1]);
    const event = proxyEvent(
      {
        method: 'POST',
        url: new URL('http://localhost/x'),
        headers: { 'content-type': 'application/octet-stream' },
        body,
        sourceIp: '::1',
      },
      route,
      {},
      undefined,
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(body);
    expect(event.pathParameters).toBeNull();
  });
});
