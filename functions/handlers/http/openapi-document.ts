import { z } from 'zod';
import * as api from '../../core/api-schemas.js';
import { routes } from './routes.js';

/** Request and response schemas per route handler; the OpenAPI document is generated from them. */
const contracts: Record<
  string,
  { query?: z.ZodType; body?: z.ZodType; response?: z.ZodType; summary: string }
> = {
  'list-previews': {
    summary: "The caller's previews and remaining quota",
    response: api.listPreviewsResponseSchema,
  },
  'get-openapi': { summary: 'This document' },
  'launch-preview': {
    summary: 'Launch a preview (asynchronous: 202, or 200 with the live preview)',
    query: api.launchQuerySchema,
    body: api.launchRequestSchema,
    response: api.launchResponseSchema,
  },
  'get-preview-status': {
    summary: 'Status, health, resources, performance',
    response: api.statusResponseSchema,
  },
  'delete-preview': {
    summary: 'Stop the preview and remove everything it used',
    response: api.stopResponseSchema,
  },
  'list-endpoints': { summary: "The generated app's endpoints" },
  'send-test-request': { summary: 'Send one test request to the app', body: api.testRequestSchema },
  'proxy-preview': { summary: 'Transparent HTTP proxy to the app' },
  'get-preview-config': {
    summary: 'Limits, tier, database, health endpoint, environment (secrets redacted)',
  },
  'query-logs': { summary: 'Query logs', query: api.logsQuerySchema },
  'export-logs': { summary: 'Export logs as JSON, CSV or gzip', query: api.logsExportQuerySchema },
  'extend-preview': { summary: 'Extend the session', body: api.extendRequestSchema },
  'rotate-preview-token': { summary: 'A new preview token, returned once; the old one stops working' },
  'get-metrics': {
    summary: 'Time series of resource and request metrics',
    query: api.metricsQuerySchema,
    response: api.metricsResponseSchema,
  },
  'compare-versions': {
    summary: 'Compare with another version of the generation',
    response: api.compareResponseSchema,
  },
  'list-events': { summary: 'Audit trail', query: api.pageQuerySchema, response: api.eventsResponseSchema },
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });

const errorResponse = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            required: ['code', 'message'],
          },
        },
        required: ['error'],
      },
    },
  },
};

function operation(route: (typeof routes)[number]) {
  const contract = contracts[route.handler] ?? { summary: route.handler };
  const pathParameters = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const queryShape = contract.query instanceof z.ZodObject ? contract.query.shape : {};
  const queryParameters = Object.entries(queryShape).map(([name, schema]) => ({
    name,
    in: 'query',
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(schema as z.ZodType, 'input'),
  }));
  return {
    operationId: route.handler,
    summary: contract.summary,
    ...(route.authenticated ? {} : { security: [] }),
    parameters: [...pathParameters, ...queryParameters],
    ...(contract.body
      ? {
          requestBody: {
            required: false,
            content: { 'application/json': { schema: jsonSchema(contract.body, 'input') } },
          },
        }
      : {}),
    responses: {
      '200': {
        description: 'Success',
        ...(contract.response
          ? { content: { 'application/json': { schema: jsonSchema(contract.response, 'output') } } }
          : {}),
      },
      default: errorResponse,
    },
  };
}

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace('{proxy+}', '{proxy}');
    const methods =
      route.method === 'ANY' ? ['get', 'post', 'put', 'patch', 'delete'] : [route.method.toLowerCase()];
    for (const method of methods) (paths[path] ??= {})[method] = operation(route);
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Preview service', version: '1.0.0' },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
