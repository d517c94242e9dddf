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

const environmentSchema = z.object({
  PREVIEW_STAGE: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits or hyphens')
    .default('local'),
  PREVIEW_RUNNER: z.enum(['docker', 'process', 'ecs']).optional(),
  PREVIEW_JWT_SECRET: optionalText,
  PREVIEW_JWT_JWKS_URL: z.url().optional(),
  PREVIEW_JWT_ISSUER: optionalText,
  PREVIEW_JWT_AUDIENCE: optionalText,
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
  PREVIEW_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(6 * 1024 * 1024)
    .default(256 * 1024),
  PREVIEW_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  PREVIEW_METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  PREVIEW_RESOURCE_SAMPLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
});

export interface Config {
  readonly stage: string;
  readonly runner: 'docker' | 'process' | 'ecs' | undefined;
  readonly jwt: {
    readonly secret: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
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
  readonly maxBodyBytes: number;
  readonly eventRetentionDays: number;
  readonly metricsRetentionDays: number;
  /** How often the local runtime samples resource use (Container Insights does it in AWS). */
  readonly resourceSampleSeconds: number;
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
    maxBodyBytes: e.PREVIEW_MAX_BODY_BYTES,
    eventRetentionDays: e.PREVIEW_EVENT_RETENTION_DAYS,
    metricsRetentionDays: e.PREVIEW_METRICS_RETENTION_DAYS,
    resourceSampleSeconds: e.PREVIEW_RESOURCE_SAMPLE_SECONDS,
    tiers,
  };
}
