import { describe, expect, it } from 'vitest';
import { diffOpenApi } from '#core/openapi-diff.js';
import { typeLabel, type OpenApiDocument } from '#core/openapi-schema.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ok = (schema: unknown) => ({ '200': { description: 'OK', ...json(schema) } });

function doc(paths: OpenApiDocument['paths'], schemas: Record<string, unknown> = {}): OpenApiDocument {
  return { openapi: '3.0.3', info: { title: 'Shop', version: '1' }, paths, components: { schemas } };
}

const item = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' } },
  required: ['id', 'name'],
};

const emptyDiff = {
  endpoints: { added: [], removed: [], modified: [] },
  models: { added: [], removed: [], modified: [] },
};

describe('comparing two OpenAPI documents', () => {
  it('finds added and removed endpoints and models, sorted by path then method', () => {
    const base = doc(
      {
        '/items': { get: { responses: ok({ type: 'array', items: ref('Item') }) } },
        '/legacy': { get: { responses: ok(ref('Legacy')) } },
      },
      { Item: item, Legacy: { type: 'object' } },
    );
    const other = doc(
      {
        '/items': {
          get: { responses: ok({ type: 'array', items: ref('Item') }) },
          post: { requestBody: json(ref('ItemCreate')), responses: ok(ref('Item')) },
        },
        '/items/{id}': {
          delete: { responses: { '204': { description: 'Gone' } } },
          put: { requestBody: json(ref('ItemCreate')), responses: ok(ref('Item')) },
        },
      },
      { Item: item, ItemCreate: { type: 'object', properties: { name: { type: 'string' } } } },
    );
    expect(diffOpenApi(base, other)).toEqual({
      endpoints: {
        added: [
          { method: 'POST', path: '/items' },
          { method: 'PUT', path: '/items/{id}' },
          { method: 'DELETE', path: '/items/{id}' },
        ],
        removed: [{ method: 'GET', path: '/legacy' }],
        modified: [],
      },
      models: { added: ['ItemCreate'], removed: ['Legacy'], modified: [] },
    });
  });

  it('says whether parameters, the request body or the responses of an endpoint changed', () => {
    const limit = { name: 'limit', in: 'query', schema: { type: 'integer' } };
    const base = doc({
      '/items': {
        get: { parameters: [limit], responses: ok({ type: 'array' }) },
        post: { requestBody: json({ type: 'object' }), responses: ok({ type: 'object' }) },
        delete: { responses: { '204': { description: 'Gone' } } },
      },
    });
    const other = doc({
      '/items': {
        get: {
          parameters: [limit, { name: 'offset', in: 'query', schema: { type: 'integer' } }],
          responses: ok({ type: 'array' }),
        },
        post: {
          requestBody: { required: true, ...json({ type: 'object' }) },
          responses: ok({ type: 'object' }),
        },
        delete: { responses: { '204': { description: 'Gone' }, '404': { description: 'Missing' } } },
      },
    });
    expect(diffOpenApi(base, other).endpoints.modified).toEqual([
      { method: 'GET', path: '/items', changes: ['parameters'], models: [] },
      { method: 'POST', path: '/items', changes: ['requestBody'], models: [] },
      { method: 'DELETE', path: '/items', changes: ['responses'], models: [] },
    ]);
  });

  it('counts a parameter declared on the path for each of its operations', () => {
    const tenant = (required: boolean) => ({
      name: 'tenant',
      in: 'header',
      required,
      schema: { type: 'string' },
    });
    const paths = (required: boolean) => ({
      '/items': {
        parameters: [tenant(required)],
        get: { responses: ok({ type: 'array' }) },
        head: { responses: ok({ type: 'array' }) },
      },
    });
    expect(diffOpenApi(doc(paths(true)), doc(paths(false))).endpoints.modified).toEqual([
      { method: 'GET', path: '/items', changes: ['parameters'], models: [] },
      { method: 'HEAD', path: '/items', changes: ['parameters'], models: [] },
    ]);
  });

  it('follows parameters defined once under components', () => {
    const withLimit = (maximum: number): OpenApiDocument => ({
      paths: {
        '/items': {
          get: { parameters: [{ $ref: '#/components/parameters/Limit' }], responses: ok({ type: 'array' }) },
        },
      },
      components: {
        parameters: { Limit: { name: 'limit', in: 'query', schema: { type: 'integer', maximum } } },
      },
    });
    expect(diffOpenApi(withLimit(100), withLimit(500)).endpoints.modified).toEqual([
      { method: 'GET', path: '/items', changes: ['parameters'], models: [] },
    ]);
    expect(diffOpenApi(withLimit(100), withLimit(100))).toEqual(emptyDiff);
  });

  it('marks endpoints that use a changed model, however deeply, and names the model', () => {
    const paths = {
      '/items/{id}': { get: { responses: ok(ref('Item')) } },
      '/pages': { get: { responses: ok(ref('Page')) } },
      '/health': { get: { responses: ok({ type: 'object' }) } },
    };
    const page = { type: 'object', properties: { items: { type: 'array', items: ref('Item') } } };
    const changedItem = { ...item, properties: { ...item.properties, color: { type: 'string' } } };
    const diff = diffOpenApi(
      doc(paths, { Item: item, Page: page }),
      doc(paths, { Item: changedItem, Page: page }),
    );
    expect(diff.endpoints.modified).toEqual([
      { method: 'GET', path: '/items/{id}', changes: ['responses'], models: ['Item'] },
      { method: 'GET', path: '/pages', changes: ['responses'], models: ['Item'] },
    ]);
    expect(diff.models.modified.map((m) => m.name)).toEqual(['Item']);
  });

  it('ignores wording and order: titles, descriptions, examples, summaries, parameter order', () => {
    const a = { name: 'a', in: 'query', schema: { type: 'string' } };
    const b = { name: 'b', in: 'query', schema: { type: 'string' } };
    const base = doc(
      { '/items': { get: { summary: 'List', parameters: [a, b], responses: ok(ref('Item')) } } },
      { Item: { ...item, title: 'Item', required: ['id', 'name'] } },
    );
    const other = doc(
      {
        '/items': {
          get: {
            summary: 'List all items',
            description: 'Every item.',
            parameters: [b, { ...a, description: 'The a.' }],
            responses: { '200': { description: 'The items', ...json(ref('Item')) } },
          },
        },
      },
      { Item: { ...item, title: 'An item', example: { id: 1 }, required: ['name', 'id'] } },
    );
    expect(diffOpenApi(base, other)).toEqual(emptyDiff);
  });

  it("lists a model's added, removed and changed fields with their types and whether required", () => {
    const before = {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: 'string' },
        price: { type: 'integer' },
        sku: { type: 'string', maxLength: 10 },
        description: { type: 'string' },
        legacyCode: { type: 'string' },
      },
      required: ['id', 'name', 'legacyCode'],
    };
    const after = {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: 'string', title: 'Name' },
        price: { type: 'number' },
        sku: { type: 'string', maxLength: 20 },
        description: { type: 'string', nullable: true },
        tags: { type: 'array', items: { type: 'string' } },
        createdAt: { type: 'string', format: 'date-time' },
      },
      required: ['id', 'createdAt'],
    };
    expect(diffOpenApi(doc({}, { Item: before }), doc({}, { Item: after })).models.modified).toEqual([
      {
        name: 'Item',
        fields: {
          added: [
            { name: 'tags', type: 'array<string>', required: false },
            { name: 'createdAt', type: 'string(date-time)', required: true },
          ],
          removed: [{ name: 'legacyCode', type: 'string', required: true }],
          changed: [
            {
              name: 'name',
              changes: ['required'],
              from: { type: 'string', required: true },
              to: { type: 'string', required: false },
            },
            {
              name: 'price',
              changes: ['type'],
              from: { type: 'integer', required: false },
              to: { type: 'number', required: false },
            },
            {
              name: 'sku',
              changes: ['constraints'],
              from: { type: 'string', required: false },
              to: { type: 'string', required: false },
            },
            {
              name: 'description',
              changes: ['type'],
              from: { type: 'string', required: false },
              to: { type: 'string | null', required: false },
            },
          ],
        },
        definitionChanged: false,
      },
    ]);
  });

  it('reports a change outside the fields, such as new enum values, as a definition change', () => {
    const status = (values: string[]) => ({ Status: { type: 'string', enum: values } });
    expect(
      diffOpenApi(doc({}, status(['open'])), doc({}, status(['open', 'closed']))).models.modified,
    ).toEqual([{ name: 'Status', fields: { added: [], removed: [], changed: [] }, definitionChanged: true }]);
  });

  it('merges fields inherited through allOf', () => {
    const base = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
    const child = (ownType: string) => ({
      allOf: [ref('Base'), { type: 'object', properties: { own: { type: ownType } }, required: ['own'] }],
    });
    const diff = diffOpenApi(
      doc({}, { Base: base, Child: child('string') }),
      doc({}, { Base: base, Child: child('integer') }),
    );
    expect(diff.models.modified).toEqual([
      {
        name: 'Child',
        fields: {
          added: [],
          removed: [],
          changed: [
            {
              name: 'own',
              changes: ['type'],
              from: { type: 'string', required: true },
              to: { type: 'integer', required: true },
            },
          ],
        },
        definitionChanged: false,
      },
    ]);
  });

  it('follows recursive models without looping', () => {
    const node = (extra: Record<string, unknown>) => ({
      Node: { type: 'object', properties: { children: { type: 'array', items: ref('Node') }, ...extra } },
    });
    const paths = { '/tree': { get: { responses: ok(ref('Node')) } } };
    const diff = diffOpenApi(doc(paths, node({})), doc(paths, node({ label: { type: 'string' } })));
    expect(diff.endpoints.modified).toEqual([
      { method: 'GET', path: '/tree', changes: ['responses'], models: ['Node'] },
    ]);
    expect(diff.models.modified[0]?.fields.added).toEqual([
      { name: 'label', type: 'string', required: false },
    ]);
  });

  it('reads a document without components', () => {
    const paths = { '/health': { get: { responses: ok({ type: 'object' }) } } };
    expect(diffOpenApi({ paths }, { paths })).toEqual(emptyDiff);
  });
});

describe('field type names', () => {
  it('names references, unions, nullable, arrays and formats briefly', () => {
    expect(typeLabel(ref('Todo'))).toBe('Todo');
    expect(typeLabel({ allOf: [ref('Priority')], default: 0 })).toBe('Priority');
    expect(typeLabel({ anyOf: [{ type: 'integer' }, { type: 'null' }] })).toBe('integer | null');
    expect(typeLabel({ type: ['string', 'null'], format: 'uuid' })).toBe('string(uuid) | null');
    expect(typeLabel({ type: 'array', items: ref('Todo') })).toBe('array<Todo>');
    expect(typeLabel({ enum: ['a', 'b'] })).toBe('enum');
    expect(typeLabel({})).toBe('any');
  });
});
