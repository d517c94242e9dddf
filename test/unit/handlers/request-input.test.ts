import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callerIdentity, jsonBody, parsePart, queryParameters } from '#handlers/request-input.js';
import { messageBody, type WebSocketEvent } from '#handlers/websocket/websocket-route.js';

const event = (e: Partial<APIGatewayProxyEvent>) => e as APIGatewayProxyEvent;

describe('request input', () => {
  it('turns repeated query parameters into arrays', () => {
    expect(
      queryParameters(
        event({
          queryStringParameters: { source: 'database', level: 'INFO' },
          multiValueQueryStringParameters: { source: ['request', 'database'], level: ['INFO'] },
        }),
      ),
    ).toEqual({ source: ['request', 'database'], level: 'INFO' });
    expect(queryParameters(event({ queryStringParameters: null }))).toEqual({});
  });

  it('reads JSON bodies and refuses other content', () => {
    expect(
      jsonBody(event({ body: '{"a":1}', headers: { 'Content-Type': 'application/json; charset=utf-8' } })),
    ).toEqual({ a: 1 });
    expect(jsonBody(event({ body: null, headers: {} }))).toEqual({});
    expect(() => jsonBody(event({ body: '{"a":', headers: {} }))).toThrow(/not valid JSON/);
    expect(() =>
      jsonBody(event({ body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })),
    ).toThrow(/must be JSON/);
  });

  it('reports field errors with where they are', () => {
    try {
      parsePart(z.object({ limit: z.number() }).strict(), { limit: 'x', extra: 1 }, 'query');
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'validation_failed',
        details: {
          fields: [
            { field: 'query.limit', message: expect.any(String) },
            { field: 'query', message: 'Unknown field(s): extra.' },
          ],
        },
      });
    }
  });

  it('takes the identity from the authorizer context and refuses a request without one', () => {
    const withAuthorizer = (authorizer: unknown) =>
      event({ requestContext: { authorizer } as APIGatewayProxyEvent['requestContext'] });
    expect(callerIdentity(withAuthorizer({ principalId: 'u1', tier: 'pro' }))).toEqual({
      userId: 'u1',
      tier: 'pro',
    });
    expect(() => callerIdentity(withAuthorizer({ principalId: 'u1', tier: 'platinum' }))).toThrow(
      /bearer token/,
    );
    expect(() => callerIdentity(withAuthorizer(null))).toThrow(/bearer token/);
  });

  it('refuses JSON nested deeper than 64 levels, in bodies and WebSocket messages', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => jsonBody(event({ body: deep, headers: {} }))).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
    expect(() => messageBody({ body: '['.repeat(65) + ']'.repeat(65) } as WebSocketEvent)).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });

  it('refuses WebSocket messages over 32 KB before parsing them', () => {
    expect(() => messageBody({ body: `"${'x'.repeat(32 * 1024)}"` } as WebSocketEvent)).toThrow(
      expect.objectContaining({ code: 'payload_too_large' }),
    );
  });

  it('keeps query parameters named like members of every object', () => {
    expect(
      queryParameters(
        event({
          queryStringParameters: { valueOf: 'a', constructor: 'b' },
          multiValueQueryStringParameters: { valueOf: ['a'], constructor: ['b'] },
        }),
      ),
    ).toEqual({ valueOf: 'a', constructor: 'b' });
  });
});
