import { describe, expect, it } from 'vitest';
import {
  appPath,
  forwardedRequestHeaders,
  forwardedResponseHeaders,
  queryString,
} from '#core/app-request.js';

describe('what the proxy sends to an app', () => {
  it('keeps plain paths, with or without the leading slash', () => {
    expect(appPath('/todos/7')).toBe('/todos/7');
    expect(appPath('api/users')).toBe('/api/users');
    expect(appPath('/files/a%20b')).toBe('/files/a%20b');
  });

  it.each(['http://evil.example/', 'https://x', '//evil.example/x', 'javascript:alert(1)'])(
    'refuses the URL %s',
    (raw) => {
      expect(() => appPath(raw)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    },
  );

  it.each([
    '/a/../../etc/passwd',
    '/..',
    '/%2e%2e/x',
    '/a/%2E%2E/b',
    '/./x',
    '/a\\b',
    '/a b',
    '/a#b',
    '/a%zz',
    '/a\u0000',
  ])('refuses %j', (raw) => {
    expect(() => appPath(raw)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('builds query strings with repeated keys', () => {
    expect(queryString({ a: '1', tag: ['x', 'y z'] })).toBe('?a=1&tag=x&tag=y+z');
    expect(queryString(undefined)).toBe('');
  });

  it("drops hop-by-hop headers and the caller's credentials for this service", () => {
    expect(
      forwardedRequestHeaders({
        Authorization: 'Bearer service-jwt',
        'X-Preview-Token': 'pvt_x',
        Connection: 'keep-alive',
        Host: 'api.example',
        'Content-Length': '12',
        'X-Forwarded-For': '1.2.3.4',
        'X-Amzn-Trace-Id': 'Root=1',
        'Content-Type': 'application/json',
        Cookie: 'app=1',
        'X-Custom': 'kept',
      }),
    ).toEqual({ 'content-type': 'application/json', cookie: 'app=1', 'x-custom': 'kept' });
    expect(
      forwardedResponseHeaders({ 'Transfer-Encoding': 'chunked', 'Content-Type': 'text/plain' }),
    ).toEqual({
      'content-type': 'text/plain',
    });
  });

  it("drops the app's cookies from its answers", () => {
    expect(
      forwardedResponseHeaders({
        'Set-Cookie': 'sid=1; Path=/',
        'set-cookie': 'b=2',
        'Content-Type': 'text/html',
      }),
    ).toEqual({ 'content-type': 'text/html' });
  });

  it('percent-encodes characters outside ASCII, and refuses what cannot be encoded', () => {
    expect(appPath('/hello/caf\u00e9')).toBe('/hello/caf%C3%A9');
    expect(appPath('/\u65e5\u672c')).toBe('/%E6%97%A5%E6%9C%AC');
    expect(() => appPath('/a\ud800')).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
});
