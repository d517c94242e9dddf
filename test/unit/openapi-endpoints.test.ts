import { describe, expect, it } from 'vitest';
import { apiEndpoints, routesOf } from '#core/openapi-endpoints.js';

describe('apiEndpoints', () => {
  it("lists operations in the document's order: its paths, then each path's methods", () => {
    const document = {
      openapi: '3.1.0',
      paths: {
        '/todos': {
          post: { summary: 'Create a todo', description: 'Longer words', operationId: 'create_todo' },
          get: { description: 'All todos' },
          parameters: [],
        },
        '/health': { get: {} },
      },
    };
    expect(apiEndpoints(document)).toEqual([
      { method: 'POST', path: '/todos', description: 'Create a todo', operationId: 'create_todo' },
      { method: 'GET', path: '/todos', description: 'All todos' },
      { method: 'GET', path: '/health' },
    ]);
  });

  it('reads what it can of a malformed document and nothing of a document that is not one', () => {
    expect(
      apiEndpoints({
        paths: { '/a': 'not operations', '/b': { get: null, x: {} }, '/c': { delete: { summary: 7 } } },
      }),
    ).toEqual([
      { method: 'GET', path: '/b' },
      { method: 'DELETE', path: '/c' },
    ]);
    for (const notADocument of [null, 'text', [], {}, { paths: [] }]) {
      expect(apiEndpoints(notADocument)).toEqual([]);
    }
  });

  it('cuts a page-long description to its start', () => {
    const [endpoint] = apiEndpoints({ paths: { '/a': { get: { description: 'x'.repeat(5000) } } } });
    expect(endpoint?.description).toHaveLength(300);
    expect(endpoint?.description?.endsWith('…')).toBe(true);
  });
});

describe('routesOf', () => {
  it('names the routes a client calls, GETs first, then writes, each group in document order', () => {
    const endpoints = apiEndpoints({
      paths: {
        '/todos': { delete: {}, post: {}, get: {}, head: {} },
        '/users': { options: {}, patch: {}, get: {}, put: {} },
      },
    });
    expect(routesOf(endpoints)).toEqual([
      'GET /todos',
      'GET /users',
      'POST /todos',
      'PUT /users',
      'PATCH /users',
      'DELETE /todos',
    ]);
  });
});
