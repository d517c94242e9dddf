import { describe, expect, it } from 'vitest';
import * as api from '#core/api-schemas.js';
import { openApiDocument } from '#handlers/http/openapi-document.js';
import * as examples from '#handlers/http/openapi-examples.js';
import { routes } from '#handlers/http/routes.js';

const document = openApiDocument('http://127.0.0.1:3000');

interface Answer {
  description: string;
  headers?: object;
  content?: Record<
    string,
    {
      schema: { $ref?: string; properties?: { error: { properties: { code: { enum: string[] } } } } };
      example?: unknown;
      examples?: Record<string, { value: unknown }>;
    }
  >;
}
interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, Answer>;
}

const operations = Object.values(document.paths).flatMap((byMethod) =>
  Object.values(byMethod),
) as Operation[];
const operationAt = (path: string, method: string) =>
  (document.paths as Record<string, Record<string, Operation>>)[path]?.[method] as Operation;
const generation = '/api/generations/{generationId}';
const codesOf = (operation: Operation, status: string) =>
  operation.responses[status]?.content?.['application/json']?.schema.properties?.error.properties.code.enum;

describe('the OpenAPI document', () => {
  it('has one operation per route and method, each with its own id', () => {
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('proxy-preview-get');
    expect(ids).toContain('proxy-preview-root-post');
    for (const route of routes)
      expect(document.paths).toHaveProperty([route.path.replace('{proxy+}', '{proxy}')]);
  });

  it('names the refusal codes each operation can answer under their status, with what each means', () => {
    const extend = operationAt(`${generation}/preview/extend`, 'post');
    expect(codesOf(extend, '409')).toEqual([
      'invalid_state',
      'extension_limit_reached',
      'preview_not_running',
    ]);
    expect(extend.responses['409']?.description).toMatch(/`extension_limit_reached`: /);
    expect(codesOf(operationAt(`${generation}/preview/status`, 'get'), '409')).toBeUndefined();
    expect(codesOf(operationAt('/api/openapi.json', 'get'), '401')).toBeUndefined();
  });

  it('tells when to retry, and never documents the internal version clash', () => {
    const launch = operationAt(`${generation}/preview/launch`, 'post');
    expect(codesOf(launch, '503')).toEqual(['unavailable', 'runtime_unavailable', 'maintenance']);
    expect(launch.responses['503']?.headers).toHaveProperty('Retry-After');
    expect(launch.responses['429']?.headers).toHaveProperty('Retry-After');
    expect(JSON.stringify(document)).not.toMatch(/"conflict"/);
  });

  it('gives every answer and every request body an example', () => {
    for (const operation of operations) {
      for (const [status, answer] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries(answer.content ?? {})) {
          const examplesGiven = media.example !== undefined || Object.keys(media.examples ?? {}).length > 0;
          expect(examplesGiven, `${operation.operationId} ${status} ${type}`).toBe(true);
        }
      }
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        expect(media.example, `${operation.operationId} request ${type}`).toBeDefined();
      }
    }
  });

  it('describes launch as accepted (202, with the token) or as the live preview (200), both by the named schema', () => {
    const launch = operationAt(`${generation}/preview/launch`, 'post');
    for (const status of ['200', '202']) {
      expect(launch.responses[status]?.content?.['application/json']?.schema).toEqual({
        $ref: '#/components/schemas/Launch',
      });
    }
    expect(launch.responses['202']?.content?.['application/json']?.example).toHaveProperty('previewToken');
  });

  it.each([
    [api.launchRequestSchema, examples.launchRequestExample],
    [api.launchResponseSchema, examples.launchAcceptedExample],
    [api.launchResponseSchema, examples.launchExistingExample],
    [api.statusResponseSchema, examples.statusExample],
    [api.stopResponseSchema, examples.stopExample],
    [api.listPreviewsResponseSchema, examples.previewListExample],
    [api.eventsResponseSchema, examples.eventsExample],
    [api.appEndpointsResponseSchema, examples.appEndpointsExample],
    [api.asyncApiDocumentSchema, examples.asyncApiDocumentExample],
    [api.testRequestSchema, examples.testRequestExample],
    [api.testResponseSchema, examples.testResponseExample],
    [api.configResponseSchema, examples.configExample],
    [api.logsResponseSchema, examples.logsExample],
    [api.logExportLinkSchema, examples.logExportLinkExample],
    [api.extendRequestSchema, examples.extendRequestExample],
    [api.extendResponseSchema, examples.extendExample],
    [api.rotatedTokenResponseSchema, examples.rotatedTokenExample],
    [api.metricsResponseSchema, examples.metricsExample],
    [api.compareResponseSchema, examples.compareExample],
    [api.openApiDocumentSchema, examples.openApiDocumentExample],
  ])('example %# is valid for its schema', (schema, example) => {
    expect(schema.safeParse(example).error).toBeUndefined();
  });
});
