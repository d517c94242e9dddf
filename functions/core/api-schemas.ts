import { z } from 'zod';
import { databaseTypeSchema, generationIdSchema } from './generation.js';
import { previewStatuses } from './lifecycle.js';
import { previewEventTypes } from './preview.js';
import { tierNameSchema } from './tiers.js';

/**
 * Requests and responses of the REST API, as the OpenAPI document publishes them.
 * Requests are strict: an unknown field is an error, not something silently ignored.
 */

const isoTime = z.iso.datetime({ offset: true });

export const generationPathSchema = z.object({ generationId: generationIdSchema }).strict();

export const comparePathSchema = z
  .object({ generationId: generationIdSchema, otherVersionId: generationIdSchema })
  .strict();

/** Without `proxy`, the request is for the app's root (`…/preview/proxy`). */
export const proxyPathSchema = z
  .object({ generationId: generationIdSchema, proxy: z.string().max(2048).default('') })
  .strict();

// §1 launch
export const launchRequestSchema = z
  .object({
    generationId: generationIdSchema.optional(),
    projectId: z.string().min(1).max(100).optional(),
    databaseType: databaseTypeSchema.optional(),
    resourceTier: tierNameSchema.optional(),
    autoMigrateDatabase: z.boolean().optional(),
    restart: z.boolean().optional(),
    freshDatabase: z
      .boolean()
      .optional()
      .describe('Run migrations and seed even where a snapshot of their result exists (PostgreSQL).'),
  })
  .strict();
export type LaunchRequest = z.infer<typeof launchRequestSchema>;

export const launchQuerySchema = z
  .object({ wait: z.coerce.number().int().min(0).max(25).optional() })
  .strict();

const previewStatusSchema = z.enum(previewStatuses);

export const launchResponseSchema = z.object({
  status: previewStatusSchema,
  previewInstanceId: z.string(),
  baseUrl: z.string(),
  wsUrl: z.string(),
  previewToken: z.string().optional().describe('Returned once, by the launch that created the preview.'),
  resourceAllocated: z.object({
    memory: z.string().describe('As the spec shows it: `512MB`, `1GB`.'),
    memoryBytes: z.number().int(),
    cpu: z.string().describe('As the spec shows it: `0.5 cores`, `1 core`.'),
    cpuCores: z.number(),
    storage: z.string().describe('As the spec shows it: `1GB`.'),
    storageBytes: z.number().int(),
  }),
  database: z.object({
    type: databaseTypeSchema,
    ready: z.boolean(),
    migrationStatus: z.enum(['not_required', 'pending', 'completed', 'failed']),
  }),
  expiresAt: isoTime
    .nullable()
    .describe('Null until the preview first turns healthy: the session starts then.'),
  sessionDuration: z.number().int().describe('Session length in seconds, counted from first healthy.'),
  canExtend: z.boolean(),
  extensionsRemaining: z.number().int(),
});
export type LaunchResponse = z.infer<typeof launchResponseSchema>;

/** One operation of the app's OpenAPI document: summary (or description) as `description`. */
const apiEndpointSchema = z.object({
  method: z.string(),
  path: z.string(),
  description: z.string().optional(),
  operationId: z.string().optional(),
});

// §2 status. Figures the spec shows as text keep it; the number beside each names its unit.
const usedPercent = z
  .number()
  .nullable()
  .describe('Share of the allocation in use, 0-100; null until measured.');

const memoryUsageSchema = z.object({
  allocated: z.string().describe('`512MB`, `1GB`.'),
  allocatedBytes: z.number().int(),
  used: z.string().nullable().describe('`230MB`; null until measured.'),
  usedBytes: z.number().int().nullable(),
  percent: usedPercent,
});

const cpuUsageSchema = z.object({
  allocated: z.string().describe('`0.5 cores`, `1 core`.'),
  allocatedCores: z.number(),
  used: z.number().nullable().describe('Cores in use (a number, as the spec shows it); null until measured.'),
  usedCores: z.number().nullable().describe('The same as `used`, named by its unit like the other figures.'),
  percent: usedPercent,
});

const storageUsageSchema = z.object({
  allocated: z.string().describe('`1GB`.'),
  allocatedBytes: z.number().int(),
  used: z.string().nullable().describe('`350MB`, `1.2GB`; null until measured.'),
  usedBytes: z.number().int().nullable(),
  percent: usedPercent,
});

const limitPairSchema = z.object({
  memory: z.string(),
  memoryBytes: z.number().int(),
  cpu: z.string(),
  cpuCores: z.number(),
});
/** The tier's limits and those the runtime applies; they differ where a local engine is smaller. */
const limitsSchema = z.object({
  requested: limitPairSchema,
  applied: limitPairSchema,
  reason: z
    .string()
    .nullable()
    .describe('Why the applied limits differ from the requested ones; null when they do not.'),
});

/** One check's result: the same words over REST and the live stream. */
export const checkStateSchema = z.enum(['passing', 'warning', 'failing']);
/** The preview's overall health: `unknown` until a check has run (and while it is not serving). */
export const healthStateSchema = z.enum(['unknown', 'healthy', 'degraded', 'unhealthy']);

export const healthViewSchema = z.object({
  status: healthStateSchema,
  checks: z.array(
    z.object({
      name: z.string(),
      status: checkStateSchema,
      lastCheck: isoTime.optional(),
      usage: z.string().optional().describe('`45%`'),
      usagePercent: z.number().optional(),
      message: z.string().optional(),
    }),
  ),
});

export const statusResponseSchema = z.object({
  previewInstanceId: z.string(),
  status: previewStatusSchema,
  statusReason: z.string().nullable(),
  containerStatus: z.string().nullable(),
  baseUrl: z.string(),
  uptime: z.number().int().nullable(),
  health: healthViewSchema,
  resources: z.object({
    memory: memoryUsageSchema,
    cpu: cpuUsageSchema,
    storage: storageUsageSchema,
    limits: limitsSchema,
  }),
  performance: z.object({
    requestCount: z.number().int(),
    errorCount: z.number().int(),
    errorRate: z.string().describe('`0.24%`'),
    errorRatePercent: z.number(),
    avgResponseTime: z.string().nullable().describe('`125ms`; null before the first request.'),
    avgResponseTimeMs: z.number().nullable(),
    p95ResponseTime: z.string().nullable().describe('`450ms`; null before the first request.'),
    p95ResponseTimeMs: z.number().nullable(),
  }),
  database: z.object({
    type: databaseTypeSchema,
    status: z.enum(['not_used', 'pending', 'connected', 'unreachable']),
    migrationStatus: z.enum(['not_required', 'pending', 'completed', 'failed']),
    tables: z
      .number()
      .int()
      .nullable()
      .describe(
        "The app's tables (not alembic's version table) when last counted; null: see notCountedReason.",
      ),
    records: z.number().int().nullable().describe('Rows in those tables, counted exactly.'),
    countedAt: isoTime
      .nullable()
      .describe('When tables and records were counted (by the resource sampler, not by this call).'),
    notCountedReason: z
      .string()
      .nullable()
      .describe(
        'Why tables and records are null: no database, a kind not counted, a runtime that cannot count.',
      ),
  }),
  expiresAt: isoTime.nullable(),
  timeRemaining: z.number().int().nullable(),
  canExtend: z.boolean(),
  extensionsRemaining: z.number().int(),
  generatedEndpoints: z
    .array(apiEndpointSchema)
    .describe(
      "The app's OpenAPI operations as GET …/endpoints lists them (the first 200), read when it first turned healthy; empty when it serves no document.",
    ),
  timeline: z.array(
    z.object({
      kind: z
        .literal('service')
        .optional()
        .describe(
          "Absent on the launch steps; `service` on the service's own steps (record writes, waits, …).",
        ),
      step: z.string(),
      startedAt: isoTime,
      endedAt: isoTime.optional(),
      durationMs: z.number().int().optional(),
      restoredFromSnapshot: z
        .boolean()
        .optional()
        .describe(
          'On `migrations` and `seed`: their result came from a database snapshot; they did not run.',
        ),
    }),
  ),
  failure: z
    .object({
      step: z.string(),
      reason: z.string(),
      message: z.string(),
      exitCode: z.number().int().optional(),
      lastLines: z.array(z.string()).optional(),
    })
    .nullable(),
});
export type StatusResponse = z.infer<typeof statusResponseSchema>;

export const stopResponseSchema = z.object({
  previewInstanceId: z.string(),
  status: previewStatusSchema,
  stoppedAt: isoTime.nullable(),
});

// GET /api/previews
export const listPreviewsResponseSchema = z.object({
  previews: z.array(
    z.object({
      previewInstanceId: z.string(),
      generationId: z.string(),
      projectId: z.string(),
      status: previewStatusSchema,
      tier: tierNameSchema,
      createdAt: isoTime,
      expiresAt: isoTime.nullable(),
    }),
  ),
  quota: z.object({
    tier: tierNameSchema,
    limit: z.number().int(),
    used: z.number().int(),
    remaining: z.number().int(),
  }),
});

// GET /preview/events
export const pageQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    nextToken: z.string().min(1).max(2048).optional(),
  })
  .strict();

export const eventsResponseSchema = z.object({
  events: z.array(
    z.object({
      eventId: z.string(),
      type: z.enum(previewEventTypes),
      timestamp: isoTime,
      actor: z.object({ type: z.enum(['user', 'system']), id: z.string() }),
      reason: z.string().optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  nextToken: z.string().optional(),
});

// POST /preview/request
const headerMap = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a header name'),
  // What HTTP allows in a field value: no CR, LF or other control characters (no header injection).
  z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'may not contain CR, LF or other control characters'),
);

export const testRequestSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']),
    path: z.string().regex(/^\/[^\s#]*$/, 'must be an absolute path such as /api/users'),
    query: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
    headers: headerMap.optional(),
    body: z.unknown().optional(),
  })
  .strict();

// GET /preview/logs and /preview/logs/export
export const logLevels = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const logSources = ['request', 'database', 'startup', 'error', 'system', 'build'] as const;

/** `source=request,database`, `source=request&source=database`, or a JSON array (WebSocket filters). */
export const logSourceListSchema = z.preprocess(
  (value) =>
    typeof value === 'string' || Array.isArray(value)
      ? [value]
          .flat()
          .flatMap((item) => (typeof item === 'string' ? item.split(',').map((s) => s.trim()) : [item]))
      : value,
  z.array(z.enum(logSources)).min(1),
);

const logFilterShape = {
  level: z.enum(logLevels).optional(),
  source: logSourceListSchema.optional().describe('One source, or several as a comma-separated list.'),
  search: z.string().min(1).max(200).optional(),
  start: isoTime.optional(),
  end: isoTime.optional(),
};

export const logsQuerySchema = z
  .object({
    ...logFilterShape,
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    nextToken: z.string().min(1).max(2048).optional(),
  })
  .strict();

export const logsExportQuerySchema = z
  .object({ ...logFilterShape, format: z.enum(['json', 'csv', 'gzip']).default('json') })
  .strict();

// §4 extend
export const extendRequestSchema = z
  .object({
    duration: z
      .number()
      .int()
      .min(60)
      .max(24 * 3600)
      .optional(),
  })
  .strict();

// §5 metrics
export const metricsQuerySchema = z
  .object({
    start: isoTime.optional(),
    end: isoTime.optional(),
    period: z.coerce
      .number()
      .int()
      .min(60)
      .max(86400)
      .multipleOf(60, 'must be a whole number of minutes, in seconds (60, 300, ...)')
      .default(60),
  })
  .strict();

const seriesPoint = z.object({ timestamp: isoTime, value: z.number() });

export const metricsResponseSchema = z.object({
  previewInstanceId: z.string(),
  start: isoTime,
  end: isoTime,
  period: z.number().int().describe('Seconds per point; points start at multiples of it (UTC).'),
  metrics: z.object({
    memory: z.array(seriesPoint).describe('MB in use, averaged over the period.'),
    cpu: z.array(seriesPoint).describe('Cores in use, averaged over the period.'),
    responseTime: z.array(
      seriesPoint.extend({
        value: z.number().describe('Average ms.'),
        p95: z.number(),
        p99: z.number(),
        requests: z.number().int(),
      }),
    ),
    errors: z
      .array(z.object({ timestamp: isoTime, count: z.number().int(), type: z.string() }))
      .describe('5xx, timeout, unreachable: what the status counts as errors. 4xx are in clientErrors.'),
    clientErrors: z.array(z.object({ timestamp: isoTime, count: z.number().int() })),
  }),
});
export type MetricsResponse = z.infer<typeof metricsResponseSchema>;

export const emptyQuerySchema = z.object({}).strict();

// §7 compare: changes read from the preview in the path (`base`) to the other version (`other`).
const endpointRef = z.object({ method: z.string(), path: z.string() });
const fieldShape = z.object({ type: z.string(), required: z.boolean() });
const fieldSummary = fieldShape.extend({ name: z.string() });
const measuredRequests = z.object({
  requestCount: z.number().int(),
  errorCount: z.number().int(),
  errorRate: z.string().describe('`0.24%`'),
  errorRatePercent: z.number(),
  avgResponseTime: z.string().describe('`125.5ms`'),
  avgResponseTimeMs: z.number(),
  p95ResponseTime: z.string().describe('`450ms`'),
  p95ResponseTimeMs: z.number(),
});
const comparedVersion = z.object({
  generationId: z.string(),
  version: z.string().nullable(),
  previewInstanceId: z.string(),
  apiVersion: z.string().nullable().describe("The OpenAPI document's info.version."),
});

export const apiDiffSchema = z.object({
  endpoints: z.object({
    added: z.array(endpointRef),
    removed: z.array(endpointRef),
    modified: z.array(
      endpointRef.extend({
        changes: z.array(z.enum(['parameters', 'requestBody', 'responses'])),
        models: z.array(z.string()).describe('Changed models the endpoint uses, directly or nested.'),
      }),
    ),
  }),
  models: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    modified: z.array(
      z.object({
        name: z.string(),
        fields: z.object({
          added: z.array(fieldSummary),
          removed: z.array(fieldSummary),
          changed: z.array(
            z.object({
              name: z.string(),
              changes: z.array(z.enum(['type', 'required', 'constraints'])),
              from: fieldShape,
              to: fieldShape,
            }),
          ),
        }),
        definitionChanged: z.boolean().describe('Something besides its fields changed (enum values, ...).'),
      }),
    ),
  }),
});
export type ApiDiff = z.infer<typeof apiDiffSchema>;

export const performanceChangeSchema = z.union([
  z.object({ available: z.literal(false), reason: z.string() }),
  z.object({
    available: z.literal(true),
    avgResponseTimeChange: z.string().nullable().describe('`-15%`, `+12.5%`, `0%`.'),
    avgResponseTimeChangePercent: z.number().nullable(),
    errorRateChange: z
      .string()
      .nullable()
      .describe('Changes are null where base measured zero and other did not.'),
    errorRateChangePercent: z.number().nullable(),
    p95ResponseTimeChange: z.string().nullable(),
    p95ResponseTimeChangePercent: z.number().nullable(),
    base: measuredRequests,
    other: measuredRequests,
  }),
]);
export type PerformanceChange = z.infer<typeof performanceChangeSchema>;

export const compareResponseSchema = z.object({
  base: comparedVersion,
  other: comparedVersion,
  comparison: apiDiffSchema.extend({ performance: performanceChangeSchema }),
});
export type CompareResponse = z.infer<typeof compareResponseSchema>;

// GET /api/openapi.json: the document itself, described only as far as a reader relies on it.
export const openApiDocumentSchema = z
  .object({
    openapi: z.string(),
    info: z.object({ title: z.string(), version: z.string() }).loose(),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .loose();

// GET /api/asyncapi.json: the WebSocket contract, described only as far as a reader relies on it.
export const asyncApiDocumentSchema = z
  .object({
    asyncapi: z.string(),
    info: z.object({ title: z.string(), version: z.string() }).loose(),
    channels: z.record(z.string(), z.unknown()),
  })
  .loose();

// GET /endpoints
export const appEndpointsResponseSchema = z.object({
  generationId: z.string(),
  source: z.string().describe('Where the app serves the OpenAPI document the endpoints come from.'),
  endpoints: z.array(apiEndpointSchema).describe("In the document's order: paths, then each path's methods."),
});

// POST /preview/request
export const testResponseSchema = z.object({
  statusCode: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown().describe('JSON bodies parsed, text as text, binary as base64.'),
  durationMs: z.number(),
});

// GET /preview/config
const limitPairWithReason = {
  requested: limitPairSchema,
  applied: limitPairSchema,
  reason: limitsSchema.shape.reason,
};

export const configResponseSchema = z.object({
  previewInstanceId: z.string(),
  tier: tierNameSchema,
  limits: z.object({
    memory: z.string().describe('The applied memory limit: `512MB`.'),
    memoryMb: z.number().int(),
    cpu: z.string().describe('The applied CPU limit: `0.5 cores`.'),
    cpuCores: z.number(),
    storage: z.string().describe('`1GB`.'),
    storageBytes: z.number().int(),
    ...limitPairWithReason,
  }),
  database: z.object({
    type: databaseTypeSchema,
    autoMigrate: z.boolean(),
    migrationCommand: z.string().nullable(),
    seedCommand: z.string().nullable(),
    url: z.string().nullable(),
    environment: z
      .record(z.string(), z.string())
      .describe('Every database variable the app gets; passwords as `***`.'),
  }),
  healthCheck: z.object({ endpoint: z.string(), intervalSeconds: z.number().int() }),
  entryPoint: z.string(),
  command: z.string().describe('The entry point as run.'),
  commandChanges: z.array(z.string()).describe('What was rewritten so the server listens on 0.0.0.0:<port>.'),
  listenEnvironment: z.record(z.string(), z.string()),
  port: z.number().int(),
  openapiPath: z.string(),
  env: z.record(z.string(), z.string()).describe("The generation's environment, secrets as `***`."),
  dockerfile: z.object({ path: z.string(), generated: z.boolean() }),
  databaseSnapshots: z
    .object({
      enabled: z.boolean(),
      maxCount: z.number().int().nullable(),
      maxAgeHours: z.number().nullable(),
      snapshots: z.array(
        z.object({ key: z.string(), createdAt: isoTime, sizeBytes: z.number().int().optional() }),
      ),
    })
    .describe(
      "The generation's database snapshots (its state after migrations and seed), newest first, and how they are evicted.",
    ),
  generatedDockerfile: z.string().nullable(),
});

// GET /preview/logs
export const logLineSchema = z.object({
  timestamp: isoTime,
  level: z.enum(logLevels),
  source: z.enum(logSources),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  cursor: z
    .string()
    .describe("Where the line sits in the preview's log: resume after it with `after=<cursor>`."),
});

export const logsResponseSchema = z.object({
  previewInstanceId: z.string(),
  logs: z.array(logLineSchema),
  nextToken: z.string().optional().describe('Present when more lines match: pass it back for the next page.'),
});

export const logExportLinkSchema = z.object({
  url: z.string().describe('Where to download the file (also in `Location`).'),
  expiresAt: isoTime,
  bytes: z.number().int(),
});

// POST /preview/extend
export const extendResponseSchema = z.object({
  status: z.literal('extended'),
  newExpiresAt: isoTime,
  extensionsRemaining: z.number().int(),
  maxExtensions: z.number().int(),
});

// POST /preview/token
export const rotatedTokenResponseSchema = z.object({
  previewInstanceId: z.string(),
  previewToken: z.string().describe('Shown once; the previous token stops working.'),
});
