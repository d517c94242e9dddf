import { z } from 'zod';
import { defaultTiers, tierNames, tierSchema, tierVariables, type Tiers } from './tiers.js';

/** Thrown at start-up when the environment is invalid; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const booleanText = z
  .enum(['true', 'false', '1', '0'], 'must be true or false')
  .transform((value) => value === 'true' || value === '1');

/** HS256 is only as strong as its key: RFC 7518 asks for at least the hash's size. */
const minJwtSecretBytes = 32;

/** The authorizer's result TTL in API Gateway, and the local gateway's equivalent. */
export const defaultAuthorizerCacheSeconds = 60;

const environmentSchema = z
  .object({
    PREVIEW_STAGE: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits or hyphens')
      .default('local'),
    PREVIEW_RUNNER: z.enum(['docker', 'process', 'ecs']).optional(),
    PREVIEW_JWT_SECRET: optionalText.refine(
      (secret) => secret === undefined || Buffer.byteLength(secret) >= minJwtSecretBytes,
      `must be at least ${minJwtSecretBytes} bytes (e.g. openssl rand -base64 32)`,
    ),
    PREVIEW_JWT_JWKS_URL: z.url().optional(),
    PREVIEW_JWT_ISSUER: optionalText,
    PREVIEW_JWT_AUDIENCE: optionalText,
    /** Oldest a bearer token may be, by its `iat`; unset: only its `exp` limits it. */
    PREVIEW_JWT_MAX_AGE_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3600)
      .optional(),
    /** How long the authorizer's decision for a token is cached (API Gateway's results TTL). */
    PREVIEW_AUTHORIZER_CACHE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(defaultAuthorizerCacheSeconds),
    /** Launchable generations without an `ownerId` (the bundled examples); true locally, false in AWS. */
    PREVIEW_ALLOW_UNOWNED_GENERATIONS: booleanText.default(false),
    PREVIEW_MAX_CONNECTIONS_PER_PREVIEW: z.coerce.number().int().min(1).max(10_000).default(10),
    PREVIEW_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(20),
    PREVIEW_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(100),
    PREVIEW_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(600),
    PREVIEWS_TABLE: z.string().min(3).default('preview-previews'),
    QUOTAS_TABLE: z.string().min(3).default('preview-quotas'),
    EVENTS_TABLE: z.string().min(3).default('preview-events'),
    CONNECTIONS_TABLE: z.string().min(3).default('preview-connections'),
    METRICS_TABLE: z.string().min(3).default('preview-metrics'),
    PREVIEW_GENERATIONS_DIR: z.string().min(1).default('examples/generations'),
    PREVIEW_GENERATIONS_BUCKET: optionalText,
    PREVIEW_GENERATIONS_PREFIX: z.string().default('generations/'),
    /** Public base URL of the API, used to build `wsUrl`; locally the gateway's address. */
    PREVIEW_PUBLIC_URL: z.url().default('http://127.0.0.1:3000'),
    PREVIEW_WEBSOCKET_URL: z.url().optional(),
    /** The SaaS frontend's origin, allowed to call the API from a browser (CORS). */
    PREVIEW_ALLOWED_ORIGIN: z.url().optional(),
    PREVIEW_DATABASE_IMAGE_POSTGRESQL: optionalText,
    PREVIEW_DATABASE_IMAGE_MONGODB: optionalText,
    PREVIEW_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(6 * 1024 * 1024)
      .default(256 * 1024),
    PREVIEW_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    PREVIEW_METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    PREVIEW_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
    PREVIEW_RESOURCE_SAMPLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
    PREVIEW_HEALTH_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(100).default(3),
    PREVIEW_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
    PREVIEW_LAUNCH_TIMEOUT_SECONDS: z.coerce.number().int().min(30).max(7200).default(600),
    PREVIEW_LAUNCH_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(60).default(3),
    PREVIEW_EXPIRY_WARNING_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
    /** The maintenance switch where no parameter holds it (the local runtime). */
    PREVIEW_MAINTENANCE: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['on', 'off'], { error: 'must be on or off' }))
      .default('off'),
    /** The SSM parameter holding the maintenance switch (AWS); it wins over PREVIEW_MAINTENANCE. */
    PREVIEW_MAINTENANCE_PARAMETER: optionalText,
    PREVIEW_MAINTENANCE_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  })
  .superRefine((e, ctx) => {
    // Keys from a public JWKS verify tokens any tenant of the identity provider can get.
    if (e.PREVIEW_JWT_JWKS_URL === undefined) return;
    for (const name of ['PREVIEW_JWT_ISSUER', 'PREVIEW_JWT_AUDIENCE'] as const) {
      if (e[name] === undefined)
        ctx.addIssue({ code: 'custom', path: [name], message: 'is required with PREVIEW_JWT_JWKS_URL' });
    }
  });

export interface Config {
  readonly stage: string;
  readonly runner: 'docker' | 'process' | 'ecs' | undefined;
  readonly jwt: {
    readonly secret: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly maxAgeSeconds: number | undefined;
    /**
     * How long a decision about a token may be cached. A token is accepted only while at least this
     * long remains before its `exp`, so no cached decision outlives the token.
     */
    readonly cacheSeconds: number;
  };
  readonly allowUnownedGenerations: boolean;
  readonly limits: {
    /** Live-stream connections one preview accepts at a time (429 beyond). */
    readonly connectionsPerPreview: number;
    /** Client messages a live-stream connection may send a second; beyond, the local gateway closes it. */
    readonly messagesPerSecond: number;
    /** The local gateway's per-user REST limit: a token bucket refilled at this rate (a WAF rule in AWS). */
    readonly requestsPerSecond: number;
    /** …holding at most this many requests, the burst a user may send at once. */
    readonly requestBurst: number;
  };
  readonly tables: {
    readonly previews: string;
    readonly quotas: string;
    readonly events: string;
    readonly connections: string;
    readonly metrics: string;
  };
  readonly generations: {
    readonly directory: string;
    readonly bucket: string | undefined;
    readonly prefix: string;
  };
  readonly publicUrl: string;
  readonly websocketUrl: string | undefined;
  readonly allowedOrigin: string | undefined;
  /** Where database sidecar images come from (an ECR pull-through cache in AWS). */
  readonly databaseImages: { readonly postgresql?: string; readonly mongodb?: string };
  readonly maxBodyBytes: number;
  readonly eventRetentionDays: number;
  readonly metricsRetentionDays: number;
  /** How long a preview's logs are kept after it (the log group's retention in AWS). */
  readonly logRetentionDays: number;
  /** How often the local runtime samples resource use (Container Insights does it in AWS). */
  readonly resourceSampleSeconds: number;
  /** Unhealthy checks in a row before a preview is restarted. */
  readonly healthFailureThreshold: number;
  /** How often the sweeper runs locally (an EventBridge schedule in AWS); also the longest an orphan lives. */
  readonly sweepSeconds: number;
  readonly launchTimeoutSeconds: number;
  /**
   * How often a running launch stamps its record; a launch not stamped for four of these has
   * lost its launcher and is taken over by the next sweep.
   */
  readonly launchHeartbeatSeconds: number;
  readonly expiryWarningSeconds: number;
  readonly maintenance: {
    /** The switch's setting where no parameter holds it. */
    readonly on: boolean;
    /** The SSM parameter that holds the switch, read at most once per `cacheSeconds`. */
    readonly parameter: string | undefined;
    readonly cacheSeconds: number;
  };
  readonly tiers: Tiers;
}

type Environment = Readonly<Record<string, string | undefined>>;

function parseTiers(env: Environment, problems: string[]): Tiers {
  const tiers = { ...defaultTiers };
  for (const name of tierNames) {
    const variable = tierVariables[name];
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      problems.push(`${variable}: not valid JSON (expected an object such as {"memory": 512, "cpu": 1})`);
      continue;
    }
    const parsed = tierSchema.partial().safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
        problems.push(`${variable}${where}: ${issue.message}`);
      }
      continue;
    }
    tiers[name] = { ...tiers[name], ...parsed.data };
  }
  return tiers;
}

/** The one configuration loader: validates the whole environment once, at start-up. */
export function loadConfig(env: Environment = process.env): Config {
  const problems: string[] = [];
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const tiers = parseTiers(env, problems);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    stage: e.PREVIEW_STAGE,
    runner: e.PREVIEW_RUNNER,
    jwt: {
      secret: e.PREVIEW_JWT_SECRET,
      jwksUrl: e.PREVIEW_JWT_JWKS_URL,
      issuer: e.PREVIEW_JWT_ISSUER,
      audience: e.PREVIEW_JWT_AUDIENCE,
      maxAgeSeconds: e.PREVIEW_JWT_MAX_AGE_SECONDS,
      cacheSeconds: e.PREVIEW_AUTHORIZER_CACHE_SECONDS,
    },
    allowUnownedGenerations: e.PREVIEW_ALLOW_UNOWNED_GENERATIONS,
    limits: {
      connectionsPerPreview: e.PREVIEW_MAX_CONNECTIONS_PER_PREVIEW,
      messagesPerSecond: e.PREVIEW_MAX_MESSAGES_PER_SECOND,
      requestsPerSecond: e.PREVIEW_RATE_LIMIT_PER_SECOND,
      requestBurst: e.PREVIEW_RATE_LIMIT_BURST,
    },
    tables: {
      previews: e.PREVIEWS_TABLE,
      quotas: e.QUOTAS_TABLE,
      events: e.EVENTS_TABLE,
      connections: e.CONNECTIONS_TABLE,
      metrics: e.METRICS_TABLE,
    },
    generations: {
      directory: e.PREVIEW_GENERATIONS_DIR,
      bucket: e.PREVIEW_GENERATIONS_BUCKET,
      prefix: e.PREVIEW_GENERATIONS_PREFIX,
    },
    publicUrl: e.PREVIEW_PUBLIC_URL.replace(/\/$/, ''),
    websocketUrl: e.PREVIEW_WEBSOCKET_URL,
    allowedOrigin: e.PREVIEW_ALLOWED_ORIGIN,
    databaseImages: {
      ...(e.PREVIEW_DATABASE_IMAGE_POSTGRESQL ? { postgresql: e.PREVIEW_DATABASE_IMAGE_POSTGRESQL } : {}),
      ...(e.PREVIEW_DATABASE_IMAGE_MONGODB ? { mongodb: e.PREVIEW_DATABASE_IMAGE_MONGODB } : {}),
    },
    maxBodyBytes: e.PREVIEW_MAX_BODY_BYTES,
    eventRetentionDays: e.PREVIEW_EVENT_RETENTION_DAYS,
    metricsRetentionDays: e.PREVIEW_METRICS_RETENTION_DAYS,
    logRetentionDays: e.PREVIEW_LOG_RETENTION_DAYS,
    resourceSampleSeconds: e.PREVIEW_RESOURCE_SAMPLE_SECONDS,
    healthFailureThreshold: e.PREVIEW_HEALTH_FAILURE_THRESHOLD,
    sweepSeconds: e.PREVIEW_SWEEP_SECONDS,
    launchTimeoutSeconds: e.PREVIEW_LAUNCH_TIMEOUT_SECONDS,
    launchHeartbeatSeconds: e.PREVIEW_LAUNCH_HEARTBEAT_SECONDS,
    expiryWarningSeconds: e.PREVIEW_EXPIRY_WARNING_SECONDS,
    maintenance: {
      on: e.PREVIEW_MAINTENANCE === 'on',
      parameter: e.PREVIEW_MAINTENANCE_PARAMETER,
      cacheSeconds: e.PREVIEW_MAINTENANCE_CACHE_SECONDS,
    },
    tiers,
  };
}
