import { z } from 'zod';
import * as api from '../../core/api-schemas.js';
import type { ErrorCode } from '../../core/errors.js';
import { errorStatus } from '../error-answer.js';
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

/** What each error code tells a client; `conflict` is internal (retried, never sent) and has none. */
const errorCodeMeanings: Record<Exclude<ErrorCode, 'conflict'>, string> = {
  bad_request: 'The request cannot be read (not JSON, a malformed header or token).',
  validation_failed: 'A field is invalid; `details.fields` lists each field and what is wrong.',
  unauthorized: 'No valid bearer token (or preview token).',
  forbidden: "Not the caller's to use (another plan's tier, a stale preview token).",
  not_found: 'No such generation or preview for this caller.',
  invalid_state:
    "The preview's status does not allow this (extending a stopped preview); `details.status` says which it is.",
  quota_exceeded:
    "The plan's concurrent previews are all in use (`details.limit`, `details.active`); stop one first.",
  extension_limit_reached:
    "The session's extensions are used up; `details.maxExtensions` says how many the tier has.",
  preview_not_running: 'The preview is not serving yet (or any more); wait for `healthy` or launch it.',
  payload_too_large: 'The body or message is over its limit.',
  rate_limited: 'Too many requests; retry after `Retry-After` seconds.',
  internal: "The service's own fault; nothing the client can change.",
  not_implemented: 'This environment has no runtime for it.',
  unavailable:
    'A dependency (the database) is busy or failing, or the preview was changing; retry after `Retry-After` seconds.',
  runtime_unavailable: 'The container runtime does not answer; retry after `Retry-After` seconds.',
  maintenance: 'The stage is in maintenance; retry after `Retry-After` seconds.',
};

/** Always an object: the invalid fields under `fields`, the error's other named facts beside it. */
const errorDetailsSchema = {
  type: 'object',
  properties: {
    fields: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
        required: ['field', 'message'],
      },
    },
  },
  additionalProperties: true,
};

const retryAfterHeader = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

/** One response per error status, naming the codes it can carry and what each means. */
const errorResponses = Object.fromEntries(
  [...new Set(Object.values(errorStatus))]
    .sort((a, b) => a - b)
    .map((status) => {
      const codes = (Object.keys(errorCodeMeanings) as (keyof typeof errorCodeMeanings)[]).filter(
        (code) => errorStatus[code] === status,
      );
      return [
        String(status),
        {
          description: codes.map((code) => `\`${code}\`: ${errorCodeMeanings[code]}`).join('\n\n'),
          ...(status === 429 || status === 503 ? { headers: retryAfterHeader } : {}),
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  error: {
                    type: 'object',
                    properties: {
                      code: { type: 'string', enum: codes },
                      message: { type: 'string' },
                      details: { $ref: '#/components/schemas/ErrorDetails' },
                    },
                    required: ['code', 'message'],
                  },
                },
                required: ['error'],
              },
            },
          },
        },
      ];
    }),
);

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
      ...errorResponses,
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
    components: {
      schemas: { ErrorDetails: errorDetailsSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
