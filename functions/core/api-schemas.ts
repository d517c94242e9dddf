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

export const proxyPathSchema = z
  .object({ generationId: generationIdSchema, proxy: z.string().min(1).max(2048) })
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
      .describe('Run migrations and seed even where a snapshot of their result exists (PostgreSQL, local).'),
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
  resourceAllocated: z.object({ memory: z.string(), cpu: z.string(), storage: z.string() }),
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

// §2 status
const usageSchema = z.object({
  allocated: z.string(),
  used: z.union([z.string(), z.number()]).nullable(),
  percent: z.number().nullable(),
});

const limitPairSchema = z.object({ memory: z.string(), cpu: z.string() });
/** The tier's limits and those the runtime applies; they differ where a local engine is smaller. */
const limitsSchema = z.object({
  requested: limitPairSchema,
  applied: limitPairSchema,
  reason: z
    .string()
    .nullable()
    .describe('Why the applied limits differ from the requested ones; null when they do not.'),
});

export const statusResponseSchema = z.object({
  previewInstanceId: z.string(),
  status: previewStatusSchema,
  statusReason: z.string().nullable(),
  containerStatus: z.string().nullable(),
  baseUrl: z.string(),
  uptime: z.number().int().nullable(),
  health: z.object({
    status: z.enum(['unknown', 'healthy', 'degraded', 'unhealthy']),
    checks: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['passing', 'warning', 'failing']),
        lastCheck: isoTime.optional(),
        usage: z.string().optional(),
        message: z.string().optional(),
      }),
    ),
  }),
  resources: z.object({
    memory: usageSchema,
    cpu: usageSchema,
    storage: usageSchema,
    limits: limitsSchema,
  }),
  performance: z.object({
    requestCount: z.number().int(),
    errorCount: z.number().int(),
    errorRate: z.string(),
    avgResponseTime: z.string().nullable(),
    p95ResponseTime: z.string().nullable(),
  }),
  database: z.object({
    type: databaseTypeSchema,
    status: z.enum(['not_used', 'pending', 'connected', 'unreachable']),
    migrationStatus: z.enum(['not_required', 'pending', 'completed', 'failed']),
    tables: z.number().int().nullable(),
    records: z.number().int().nullable(),
  }),
  expiresAt: isoTime.nullable(),
  timeRemaining: z.number().int().nullable(),
  canExtend: z.boolean(),
  extensionsRemaining: z.number().int(),
  generatedEndpoints: z.array(
    z.object({
      method: z.string(),
      path: z.string(),
      description: z.string().optional(),
      responseTime: z.string().optional(),
      status: z.string().optional(),
    }),
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
  errorRate: z.string(),
  avgResponseTime: z.string(),
  p95ResponseTime: z.string(),
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
    avgResponseTimeChange: z.string().nullable(),
    errorRateChange: z
      .string()
      .nullable()
      .describe('Changes are null where base measured zero and other did not.'),
    p95ResponseTimeChange: z.string().nullable(),
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
