import { z } from 'zod';
import * as api from '#core/api-schemas.js';
import type { ErrorCode } from '#core/errors.js';
import { errorStatus } from '../error-answer.js';
import * as examples from './openapi-examples.js';
import { routes, type RestRouteName } from './routes.js';

/** A success answer: its status, what it means, and its body (a named schema) with an example. */
interface SuccessAnswer {
  readonly status: number;
  readonly description: string;
  readonly schema?: string;
  readonly example?: unknown;
  /** Bodies other than JSON (the proxy, log exports): media type → schema and example. */
  readonly content?: Record<string, { schema: object; example: unknown }>;
  readonly headers?: Record<string, object>;
}

/** What the document says of a route: its request, its answers, and the errors it may add to every route's. */
interface Contract {
  readonly summary: string;
  readonly tag: string;
  readonly query?: z.ZodObject;
  readonly body?: { readonly schema: string; readonly example: unknown };
  readonly answers: readonly SuccessAnswer[];
  readonly errors?: readonly ClientErrorCode[];
}

/** `conflict` is internal (retried, never sent), so it is never documented. */
type ClientErrorCode = Exclude<ErrorCode, 'conflict'>;

/** Named component schemas: the answers' as they are sent, the requests' as they are read. */
const answerSchemas = {
  PreviewList: api.listPreviewsResponseSchema,
  OpenApiDocument: api.openApiDocumentSchema,
  AsyncApiDocument: api.asyncApiDocumentSchema,
  Launch: api.launchResponseSchema,
  PreviewStatus: api.statusResponseSchema,
  StopResult: api.stopResponseSchema,
  AppEndpoints: api.appEndpointsResponseSchema,
  TestResponse: api.testResponseSchema,
  PreviewConfig: api.configResponseSchema,
  LogsPage: api.logsResponseSchema,
  LogLine: api.logLineSchema,
  LogExportLink: api.logExportLinkSchema,
  ExtendResult: api.extendResponseSchema,
  RotatedToken: api.rotatedTokenResponseSchema,
  PreviewMetrics: api.metricsResponseSchema,
  VersionComparison: api.compareResponseSchema,
  PreviewEvents: api.eventsResponseSchema,
};
const requestSchemas = {
  LaunchRequest: api.launchRequestSchema,
  TestRequest: api.testRequestSchema,
  ExtendRequest: api.extendRequestSchema,
};

const json = (schema: keyof typeof answerSchemas, status: number, description: string, example: unknown) => ({
  status,
  description,
  schema,
  example,
});

const contracts: Record<RestRouteName, Contract> = {
  'list-previews': {
    summary: "The caller's previews and remaining quota",
    tag: 'Previews',
    answers: [json('PreviewList', 200, 'The previews and the quota.', examples.previewListExample)],
  },
  'get-openapi': {
    summary: 'This document',
    tag: 'Contract',
    answers: [json('OpenApiDocument', 200, 'The OpenAPI document.', examples.openApiDocumentExample)],
  },
  'get-asyncapi': {
    summary: 'The AsyncAPI 3 document of the WebSocket live stream',
    tag: 'Contract',
    answers: [json('AsyncApiDocument', 200, 'The AsyncAPI document.', examples.asyncApiDocumentExample)],
  },
  'get-websocket-docs': {
    summary: 'The WebSocket live stream reference, as an HTML page',
    tag: 'Contract',
    answers: [
      {
        status: 200,
        description: 'The page.',
        content: {
          'text/html': {
            schema: { type: 'string' },
            example: '<!doctype html><title>Preview live stream</title>',
          },
        },
      },
    ],
  },
  'launch-preview': {
    summary: 'Launch a preview (asynchronous: 202, or 200 with the live preview)',
    tag: 'Previews',
    query: api.launchQuerySchema,
    body: { schema: 'LaunchRequest', example: examples.launchRequestExample },
    answers: [
      json(
        'Launch',
        202,
        'Launched: it goes on in the background. The answer carries the preview token, once.',
        examples.launchAcceptedExample,
      ),
      json(
        'Launch',
        200,
        'A live preview of the generation exists (or `wait` saw it healthy): returned, without a token.',
        examples.launchExistingExample,
      ),
    ],
    errors: ['quota_exceeded', 'runtime_unavailable', 'maintenance', 'not_implemented'],
  },
  'get-preview-status': {
    summary: 'Status, health, resources, performance',
    tag: 'Previews',
    answers: [json('PreviewStatus', 200, 'The status document.', examples.statusExample)],
  },
  'delete-preview': {
    summary: 'Stop the preview and remove everything it used',
    tag: 'Previews',
    answers: [json('StopResult', 200, 'Stopped (idempotent).', examples.stopExample)],
  },
  'list-endpoints': {
    summary: "The generated app's endpoints",
    tag: 'App',
    answers: [json('AppEndpoints', 200, "The app's endpoints.", examples.appEndpointsExample)],
    errors: ['preview_not_running'],
  },
  'send-test-request': {
    summary: 'Send one test request to the app',
    tag: 'App',
    body: { schema: 'TestRequest', example: examples.testRequestExample },
    answers: [json('TestResponse', 200, "The app's answer, as data.", examples.testResponseExample)],
    errors: ['preview_not_running'],
  },
  'proxy-preview': {
    summary: 'Transparent HTTP proxy to the app',
    tag: 'App',
    answers: [
      {
        status: 200,
        description: "The app's answer: its status, headers (filtered) and body, as the app sent them.",
        content: {
          '*/*': {
            schema: { description: "The app's body." },
            example: '{"id":1,"title":"Buy milk","done":false}',
          },
        },
      },
    ],
    errors: ['preview_not_running'],
  },
  'get-preview-config': {
    summary: 'Limits, tier, database, health endpoint, environment (secrets redacted)',
    tag: 'Previews',
    answers: [json('PreviewConfig', 200, 'What the preview runs with.', examples.configExample)],
  },
  'query-logs': {
    summary: 'Query logs',
    tag: 'Logs',
    query: api.logsQuerySchema,
    answers: [json('LogsPage', 200, 'One page of matching lines, oldest first.', examples.logsExample)],
    errors: ['not_implemented'],
  },
  'export-logs': {
    summary: 'Export logs as JSON, CSV or gzip',
    tag: 'Logs',
    query: api.logsExportQuerySchema,
    answers: [
      {
        status: 200,
        description: 'The file, in the format asked for (`Content-Disposition` names it).',
        content: {
          'application/json': {
            schema: { type: 'array', items: { $ref: '#/components/schemas/LogLine' } },
            example: examples.logExportJsonExample,
          },
          'text/csv': { schema: { type: 'string' }, example: examples.logExportCsvExample },
          'application/gzip': {
            schema: { type: 'string', contentMediaType: 'application/gzip' },
            example: '(gzip of the JSON export)',
          },
        },
      },
      {
        ...json(
          'LogExportLink',
          303,
          'A file over 4 MB: a download link, valid for an hour.',
          examples.logExportLinkExample,
        ),
        headers: {
          Location: { description: 'The download link.', schema: { type: 'string' } },
        },
      },
    ],
    errors: ['not_implemented'],
  },
  'extend-preview': {
    summary: 'Extend the session',
    tag: 'Previews',
    body: { schema: 'ExtendRequest', example: examples.extendRequestExample },
    answers: [json('ExtendResult', 200, 'The new expiry.', examples.extendExample)],
    errors: ['invalid_state', 'extension_limit_reached', 'preview_not_running'],
  },
  'rotate-preview-token': {
    summary: 'A new preview token, returned once; the old one stops working',
    tag: 'Previews',
    answers: [json('RotatedToken', 200, 'The new token.', examples.rotatedTokenExample)],
    errors: ['invalid_state'],
  },
  'get-metrics': {
    summary: 'Time series of resource and request metrics',
    tag: 'Previews',
    query: api.metricsQuerySchema,
    answers: [json('PreviewMetrics', 200, 'The series.', examples.metricsExample)],
  },
  'compare-versions': {
    summary: 'Compare with another version of the generation',
    tag: 'App',
    answers: [json('VersionComparison', 200, 'What changed.', examples.compareExample)],
    errors: ['preview_not_running'],
  },
  'list-events': {
    summary: 'Audit trail',
    tag: 'Previews',
    query: api.pageQuerySchema,
    answers: [json('PreviewEvents', 200, 'One page of events, newest first.', examples.eventsExample)],
  },
};

/** What each error code tells a client. */
const errorCodeMeanings: Record<ClientErrorCode, string> = {
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

/** An example error answer per code, `details` where the code has some. */
const errorExamples: Record<ClientErrorCode, { message: string; details?: Record<string, unknown> }> = {
  bad_request: { message: 'The request body is not valid JSON.' },
  validation_failed: {
    message: 'The request is invalid.',
    details: {
      fields: [
        { field: 'body.resourceTier', message: 'Invalid option: expected one of "free"|"pro"|"enterprise"' },
      ],
    },
  },
  unauthorized: { message: 'A valid bearer token is required.' },
  forbidden: { message: 'The pro tier is above your plan.' },
  not_found: { message: 'Generation todo-api was not found.' },
  invalid_state: { message: 'The preview is stopped; launch it again.', details: { status: 'stopped' } },
  quota_exceeded: {
    message: 'All 3 previews of your plan are in use; stop one first.',
    details: { limit: 3, active: 3 },
  },
  extension_limit_reached: {
    message: 'The session was extended 3 times already.',
    details: { maxExtensions: 3 },
  },
  preview_not_running: { message: 'The preview is not serving yet.', details: { status: 'building' } },
  payload_too_large: {
    message: 'The request body is 300000 bytes; the limit is 262144.',
    details: { limit: 262144, size: 300000 },
  },
  rate_limited: {
    message: 'Too many requests: at most 100 a second (bursts of 600); try again later.',
    details: { requestsPerSecond: 100, burst: 600 },
  },
  internal: { message: 'Something went wrong on our side; try again.' },
  not_implemented: { message: 'This environment has no log store.' },
  unavailable: { message: 'The preview is changing right now; try again in a moment.' },
  runtime_unavailable: { message: 'The container runtime does not answer; try again later.' },
  maintenance: { message: 'The service is in maintenance; try again later.' },
};

/** Every route may answer these; authenticated ones also refuse tokens, and generation routes validate the path. */
const everyRoute: readonly ClientErrorCode[] = [
  'bad_request',
  'payload_too_large',
  'rate_limited',
  'internal',
];
const authenticatedRoute: readonly ClientErrorCode[] = ['unauthorized', 'forbidden'];
const generationRoute: readonly ClientErrorCode[] = ['validation_failed', 'not_found', 'unavailable'];

/**
 * `{"error": {"code", "message", "details"}}`, the one shape of every error answer, with `code`
 * narrowed to the codes the answer can carry.
 */
function errorSchema(codes: readonly ClientErrorCode[]) {
  return {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', enum: codes, description: 'What went wrong; says whether to retry.' },
          message: { type: 'string', description: 'For people: safe to show, never a stack trace.' },
          details: { $ref: '#/components/schemas/ErrorDetails' },
        },
        required: ['code', 'message'],
      },
    },
    required: ['error'],
  };
}

/** The one error shape, with `code` narrowed to what this status can carry here. */
function errorAnswer(status: number, codes: readonly ClientErrorCode[]) {
  return {
    description: codes.map((code) => `\`${code}\`: ${errorCodeMeanings[code]}`).join('\n\n'),
    ...(status === 429 || status === 503
      ? {
          headers: {
            'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
          },
        }
      : {}),
    content: {
      'application/json': {
        schema: errorSchema(codes),
        examples: Object.fromEntries(
          codes.map((code) => [code, { value: { error: { code, ...errorExamples[code] } } }]),
        ),
      },
    },
  };
}

function errorAnswers(codes: readonly ClientErrorCode[]) {
  const byStatus = new Map<number, ClientErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, statusCodes]) => [String(status), errorAnswer(status, statusCodes)]),
  );
}

const jsonSchemaOptions = { target: 'draft-2020-12', unrepresentable: 'any' } as const;

/** A schema of its own (a query parameter), without the JSON Schema document keywords. */
function inlineSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { ...jsonSchemaOptions, io });
  return rest;
}

/** The named schemas, each referring to the others by `#/components/schemas/<name>`. */
function componentSchemas(named: Record<string, z.ZodType>, io: 'input' | 'output') {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    ...jsonSchemaOptions,
    io,
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

/** What an error's `details` holds: the same object for every code. */
const errorSchemas = {
  ErrorDetails: {
    type: 'object',
    description:
      'Facts about the error: `fields` for invalid input, else named facts of the code (`limit`, `status`, `maxExtensions`, ...).',
    properties: { fields: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } } },
    additionalProperties: true,
  },
  FieldError: {
    type: 'object',
    properties: {
      field: { type: 'string', description: '`body.resourceTier`, `query.limit`, `path.generationId`.' },
      message: { type: 'string' },
    },
    required: ['field', 'message'],
  },
};

const proxyMethods = ['get', 'post', 'put', 'patch', 'delete', 'head'] as const;

function operation(route: (typeof routes)[number], operationId: string, method: string) {
  const contract = contracts[route.handler];
  const pathParameters = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(m[1] === 'proxy' ? { description: "The app's path, without its leading slash." } : {}),
  }));
  const queryParameters = Object.entries(contract.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: inlineSchema(schema as z.ZodType, 'input'),
  }));
  const sendsBody = route.handler === 'proxy-preview' && !['get', 'head', 'delete'].includes(method);
  const codes = [
    ...everyRoute,
    ...(route.authenticated ? authenticatedRoute : []),
    ...(route.path.includes('{generationId}') ? generationRoute : []),
    ...(contract.errors ?? []),
  ];
  return {
    operationId,
    summary: contract.summary,
    tags: [contract.tag],
    ...(route.authenticated ? {} : { security: [] }),
    ...(pathParameters.length + queryParameters.length > 0
      ? { parameters: [...pathParameters, ...queryParameters] }
      : {}),
    ...(contract.body
      ? {
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: { $ref: `#/components/schemas/${contract.body.schema}` },
                example: contract.body.example,
              },
            },
          },
        }
      : {}),
    ...(sendsBody
      ? {
          requestBody: {
            required: false,
            content: {
              '*/*': {
                schema: { description: 'Passed to the app as it is.' },
                example: '{"title":"Buy milk"}',
              },
            },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        contract.answers.map((answer) => [
          String(answer.status),
          {
            description: answer.description,
            ...(answer.headers ? { headers: answer.headers } : {}),
            content: answer.content ?? {
              'application/json': {
                schema: { $ref: `#/components/schemas/${answer.schema}` },
                example: answer.example,
              },
            },
          },
        ]),
      ),
      ...errorAnswers(codes),
    },
  };
}

/** The proxy's operations are one per method: `proxy-preview-get` below the root, `proxy-preview-root-get` at it. */
function operationsOf(route: (typeof routes)[number]): Record<string, object> {
  if (route.method !== 'ANY') {
    return { [route.method.toLowerCase()]: operation(route, route.handler, route.method.toLowerCase()) };
  }
  const where = route.path.includes('{proxy+}') ? '' : '-root';
  return Object.fromEntries(
    proxyMethods.map((method) => [method, operation(route, `${route.handler}${where}-${method}`, method)]),
  );
}

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const path = route.path.replace('{proxy+}', '{proxy}');
    paths[path] = { ...paths[path], ...operationsOf(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Preview service',
      version: '1.0.0',
      description:
        'Builds, runs, monitors and cleans up previews of generated backends. Every error answer has the one ' +
        'shape `{"error": {"code", "message", "details"}}`; the live stream is described on the `/docs/websocket` page of the local gateway.',
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: 'Previews', description: 'Launch, follow, extend and stop previews.' },
      {
        name: 'App',
        description: "The preview's app: its endpoints, test requests, the proxy, comparisons.",
      },
      { name: 'Logs', description: 'Log queries and exports.' },
      { name: 'Contract', description: 'This document.' },
    ],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ...componentSchemas(answerSchemas, 'output'),
        ...componentSchemas(requestSchemas, 'input'),
        ...errorSchemas,
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
