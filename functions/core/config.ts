/**
 * The environment is read here and nowhere else. Each loader validates only its function's part,
 * once, at start-up, and names every bad variable: the authorizer reads the JWT settings, every
 * other function the service's, with the ECS and log-pipeline sections where the stack sets them.
 */
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

const stageSchema = z.object({
  PREVIEW_STAGE: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits or hyphens')
    .default('local'),
});

/** How bearer tokens are verified: the authorizer's part, and all it reads besides the stage. */
const jwtSchema = z
  .object({
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
  })
  .superRefine((e, ctx) => {
    // Keys from a public JWKS verify tokens any tenant of the identity provider can get.
    if (e.PREVIEW_JWT_JWKS_URL === undefined) return;
    for (const name of ['PREVIEW_JWT_ISSUER', 'PREVIEW_JWT_AUDIENCE'] as const) {
      if (e[name] === undefined)
        ctx.addIssue({ code: 'custom', path: [name], message: 'is required with PREVIEW_JWT_JWKS_URL' });
    }
  });

/** `<account>.dkr.ecr.<region>.<suffix>/<name>`, every private ECR repository URI: (account, name). */
export const ecrRepositoryUri = /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.[a-z0-9.]+\/([a-z0-9][a-z0-9._/-]*)$/;

/** What every function but the authorizer reads: the service's stores, limits and schedules. */
const serviceSchema = stageSchema.extend({
  PREVIEW_RUNNER: z.enum(['docker', 'process', 'ecs']).optional(),
  /** Launchable generations without an `ownerId` (the bundled examples); true locally, false in AWS. */
  PREVIEW_ALLOW_UNOWNED_GENERATIONS: booleanText.default(false),
  PREVIEW_MAX_CONNECTIONS_PER_PREVIEW: z.coerce.number().int().min(1).max(10_000).default(10),
  PREVIEW_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(20),
  /** Posts to WebSocket connections in flight at once (and sockets kept open to `@connections`). */
  PREVIEW_FAN_OUT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  /** Connections one fan-out invocation sends to; more are split across parallel invocations. */
  PREVIEW_FAN_OUT_SLICE_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(200),
  /**
   * How long a preview's connections, once read, serve later deliveries (0: read for each one). Only
   * where one process makes every connection write (the local runtime): its writes refresh the list.
   */
  PREVIEW_CONNECTION_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(0),
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
  PREVIEW_DATABASE_COUNT_SECONDS: z.coerce.number().int().min(1).max(86400).default(60),
  PREVIEW_RESOURCE_SAMPLE_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
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
  /** Database snapshots: start later launches from a migrated and seeded database. */
  PREVIEW_DB_SNAPSHOTS: booleanText.default(true),
  /** AWS: the ECR repository that keeps snapshot images (`db-snapshot-<key>` tags); local Docker otherwise. */
  PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: z
    .string()
    .regex(
      ecrRepositoryUri,
      'must be an ECR repository URI such as <account>.dkr.ecr.<region>.amazonaws.com/<name>',
    )
    .optional(),
  /** AWS: the CodeBuild project that makes snapshots (set where launches run). */
  PREVIEW_DB_SNAPSHOT_PROJECT: optionalText,
  PREVIEW_DB_SNAPSHOT_MAX_COUNT: z.coerce.number().int().min(1).max(1000).default(20),
  PREVIEW_DB_SNAPSHOT_MAX_AGE_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(168),
  /** Launches the local runtime runs at once; the others wait their turn (not in AWS). */
  PREVIEW_LOCAL_LAUNCH_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(4),
  /** The longest a local task waits for one of its steps (a healthy database or app, a migration). */
  PREVIEW_LOCAL_STEP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** How the local service reaches an app: see `localRuntime.appAddress`. */
  PREVIEW_LOCAL_APP_ADDRESS: z.enum(['auto', 'container', 'published']).default('auto'),
});

const required = 'is required';
const roleArn = z
  .string(required)
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN');

/** Where previews run and build in AWS (`PREVIEW_RUNNER=ecs`): the stack's resources. */
const ecsSchema = z.object({
  PREVIEW_ECS_CLUSTER: z.string(required).min(1, required),
  PREVIEW_ECS_SUBNETS: z
    .string(required)
    .transform((value) => value.split(',').map((subnet) => subnet.trim()))
    .pipe(
      z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a comma-separated list of subnet ids')).min(1),
    ),
  PREVIEW_ECS_SECURITY_GROUP: z.string(required).regex(/^sg-[0-9a-f]+$/, 'must be a security group id'),
  PREVIEW_ECS_EXECUTION_ROLE_ARN: roleArn,
  PREVIEW_ECS_TASK_ROLE_ARN: roleArn,
  /** The preview images are built on CodeBuild's x86 hosts; ARM64 needs an ARM build project. */
  PREVIEW_ECS_CPU_ARCHITECTURE: z.enum(['X86_64', 'ARM64']).default('X86_64'),
  PREVIEW_LOG_GROUP: z.string(required).min(1, required),
  AWS_REGION: z.string(required).regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region such as eu-west-1'),
  PREVIEW_ECR_REPOSITORY_URI: z
    .string(required)
    .regex(/^[^/\s]+\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, 'must be a repository URI such as <registry>/<name>'),
  PREVIEW_CODEBUILD_PROJECT: z.string(required).min(2, required),
  PREVIEW_BUILD_BUCKET: z.string(required).min(3, required),
  PREVIEW_BUILD_PREFIX: z.string().default('build-sources/'),
  /** SSM path of the previews' secrets: `<path>/<preview id>/<variable>`. */
  PREVIEW_SECRETS_PATH: z
    .string(required)
    .regex(/^(\/[\w.-]+)+$/, 'must be an SSM parameter path such as /preview-service/dev/secrets'),
  /** The KMS key the SecureString parameters are encrypted with. */
  PREVIEW_SECRETS_KEY_ID: z.string(required).min(1, required),
  /** Where each preview's redaction list is kept for as long as its logs. */
  PREVIEW_REDACTIONS_TABLE: z.string(required).min(3, required),
});

/** The function that runs a launch outside the request, on ECS. */
const startFunctionSchema = z.object({
  PREVIEW_START_FUNCTION: z
    .string('the start-preview function name is required')
    .trim()
    .min(1, 'the start-preview function name is required'),
});

const requiredForLogs = 'is required for logs and the WebSocket API';

/** The log pipeline in AWS; on where the stack gives a function the WebSocket API's endpoint. */
const logPipelineSchema = z.object({
  /** The WebSocket API stage's `@connections` endpoint; its presence turns the log pipeline on. */
  PREVIEW_WEBSOCKET_MANAGEMENT_URL: z.url(),
  PREVIEW_LOG_GROUP: z.string(requiredForLogs).min(1, requiredForLogs),
  PREVIEW_ECS_CLUSTER: z.string(requiredForLogs).min(1, requiredForLogs),
  /** The function that replays lines to a new connection (invoked asynchronously). */
  PREVIEW_LOG_REPLAY_FUNCTION: z.string(requiredForLogs).min(1, requiredForLogs),
  /** The fan-out function's own name, where it may invoke itself with slices of a large connection set. */
  PREVIEW_LOG_FAN_OUT_FUNCTION: optionalText,
  /** Each preview's redaction list, kept as long as its logs. */
  PREVIEW_REDACTIONS_TABLE: z.string(requiredForLogs).min(3, requiredForLogs),
  /** Where large exports go; only the export function has it, the others never store exports. */
  PREVIEW_EXPORTS_BUCKET: optionalText,
  PREVIEW_EXPORTS_PREFIX: z.string().default('exports/'),
});

export interface JwtConfig {
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
}

/** All the authorizer reads: it builds the token verifier and counts denials, nothing else. */
export interface AuthorizerConfig {
  readonly stage: string;
  readonly jwt: JwtConfig;
}

export interface EcsSettings {
  readonly cluster: string;
  readonly subnets: readonly string[];
  readonly securityGroup: string;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
  readonly logGroup: string;
  readonly region: string;
  /** `<registry>/<repository>`: image references are this plus `:<content hash>`. */
  readonly repositoryUri: string;
  readonly codeBuildProject: string;
  /** Where build sources are uploaded for CodeBuild: `<bucket>/<prefix><content hash>.zip`. */
  readonly buildBucket: string;
  readonly buildPrefix: string;
  readonly secretsPath: string;
  readonly secretsKeyId: string;
  readonly redactionsTable: string;
}

export interface LogPipelineConfig {
  /** The WebSocket API stage's `@connections` endpoint. */
  readonly managementEndpoint: string;
  readonly logGroup: string;
  readonly cluster: string;
  readonly replayFunction: string;
  /** Set in the fan-out function only: it sends slices of a large connection set to copies of itself. */
  readonly fanOutFunction: string | undefined;
  readonly redactionsTable: string;
  /** Absent everywhere but in the export function: large exports then answer 501. */
  readonly exportsBucket: string | undefined;
  readonly exportsPrefix: string;
}

/** What every function but the authorizer runs on. */
export interface Config {
  readonly stage: string;
  readonly runner: 'docker' | 'process' | 'ecs' | undefined;
  /** Set when the runner is `ecs`: where previews run and build, and the function that starts launches. */
  readonly ecs: { readonly settings: EcsSettings; readonly startFunction: string } | undefined;
  /** Set where the stack gives the function the WebSocket API's endpoint. */
  readonly logPipeline: LogPipelineConfig | undefined;
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
  readonly fanOut: {
    /** Posts to WebSocket connections in flight at once. */
    readonly concurrency: number;
    /** Connections one fan-out invocation sends to; beyond, slices go to parallel invocations. */
    readonly sliceConnections: number;
    /** How long a preview's connections, once read, are reused (0: never). */
    readonly connectionCacheMs: number;
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
  /** Snapshots of migrated and seeded databases, where the runtime keeps them. */
  readonly databaseSnapshots: {
    readonly enabled: boolean;
    /** AWS: where snapshot images are kept (ECR); absent locally, where Docker keeps them. */
    readonly repositoryUri: string | undefined;
    /** AWS: the CodeBuild project that makes them; absent where none are made (listing only). */
    readonly buildProject: string | undefined;
    /** The most kept; the oldest beyond are removed. */
    readonly maxCount: number;
    /** Older ones are removed. */
    readonly maxAgeSeconds: number;
  };
  readonly maxBodyBytes: number;
  readonly eventRetentionDays: number;
  readonly metricsRetentionDays: number;
  /** How long a preview's logs are kept after it (the log group's retention in AWS). */
  readonly logRetentionDays: number;
  /** How often the local runtime samples resource use (Container Insights does it in AWS). */
  readonly resourceSampleSeconds: number;
  /** Previews the local sampler samples at once (each costs the engine a stats call and a process). */
  readonly resourceSampleConcurrency: number;
  /** How often the resource sampler counts a preview's database tables and rows, at most. */
  readonly databaseCountSeconds: number;
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
  /** The local runtime's pace on one machine (Lambda and Fargate scale by themselves in AWS). */
  readonly localRuntime: {
    /** Launches run at once; more wait their turn, in arrival order. */
    readonly launchConcurrency: number;
    /** The longest wait for one step of a task: a healthy database or app, a finished migration. */
    readonly stepTimeoutSeconds: number;
    /**
     * How an app is reached: at its address on the preview's bridge (`container`: no port to
     * publish, so a cheaper start and removal), through a port published on 127.0.0.1 (`published`:
     * for engines whose containers the host cannot reach, as Docker Desktop's or a rootless one),
     * or `auto`: the container's address where the engine allows it.
     */
    readonly appAddress: 'auto' | 'container' | 'published';
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

/** Parses one section of the environment, adding what is wrong with it to `problems`. */
function parseSection<T extends z.ZodType>(
  schema: T,
  env: Environment,
  problems: string[],
): z.output<T> | undefined {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  // The variable's name: an issue deeper in its parsed value (one of a list) is still that variable's.
  for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])}: ${issue.message}`);
  return undefined;
}

function parseJwt(env: Environment, problems: string[]): JwtConfig | undefined {
  const e = parseSection(jwtSchema, env, problems);
  return (
    e && {
      secret: e.PREVIEW_JWT_SECRET,
      jwksUrl: e.PREVIEW_JWT_JWKS_URL,
      issuer: e.PREVIEW_JWT_ISSUER,
      audience: e.PREVIEW_JWT_AUDIENCE,
      maxAgeSeconds: e.PREVIEW_JWT_MAX_AGE_SECONDS,
      cacheSeconds: e.PREVIEW_AUTHORIZER_CACHE_SECONDS,
    }
  );
}

function parseEcsSettings(env: Environment, problems: string[]): EcsSettings | undefined {
  const e = parseSection(ecsSchema, env, problems);
  return (
    e && {
      cluster: e.PREVIEW_ECS_CLUSTER,
      subnets: e.PREVIEW_ECS_SUBNETS,
      securityGroup: e.PREVIEW_ECS_SECURITY_GROUP,
      executionRoleArn: e.PREVIEW_ECS_EXECUTION_ROLE_ARN,
      taskRoleArn: e.PREVIEW_ECS_TASK_ROLE_ARN,
      cpuArchitecture: e.PREVIEW_ECS_CPU_ARCHITECTURE,
      logGroup: e.PREVIEW_LOG_GROUP,
      region: e.AWS_REGION,
      repositoryUri: e.PREVIEW_ECR_REPOSITORY_URI,
      codeBuildProject: e.PREVIEW_CODEBUILD_PROJECT,
      buildBucket: e.PREVIEW_BUILD_BUCKET,
      buildPrefix: e.PREVIEW_BUILD_PREFIX,
      secretsPath: e.PREVIEW_SECRETS_PATH,
      secretsKeyId: e.PREVIEW_SECRETS_KEY_ID,
      redactionsTable: e.PREVIEW_REDACTIONS_TABLE,
    }
  );
}

function parseLogPipeline(env: Environment, problems: string[]): LogPipelineConfig | undefined {
  const e = parseSection(logPipelineSchema, env, problems);
  return (
    e && {
      managementEndpoint: e.PREVIEW_WEBSOCKET_MANAGEMENT_URL,
      logGroup: e.PREVIEW_LOG_GROUP,
      cluster: e.PREVIEW_ECS_CLUSTER,
      replayFunction: e.PREVIEW_LOG_REPLAY_FUNCTION,
      fanOutFunction: e.PREVIEW_LOG_FAN_OUT_FUNCTION,
      redactionsTable: e.PREVIEW_REDACTIONS_TABLE,
      exportsBucket: e.PREVIEW_EXPORTS_BUCKET,
      exportsPrefix: e.PREVIEW_EXPORTS_PREFIX,
    }
  );
}

/** Throws one error naming every problem, or hands back what was parsed. */
function valid<T>(value: T | undefined, problems: readonly string[]): T {
  if (value === undefined || problems.length > 0) throw new ConfigError(problems);
  return value;
}

/** The authorizer's part: the stage and the JWT settings. */
export function loadAuthorizerConfig(env: Environment = process.env): AuthorizerConfig {
  const problems: string[] = [];
  const stage = parseSection(stageSchema, env, problems);
  const jwt = parseJwt(env, problems);
  return valid(stage && jwt && { stage: stage.PREVIEW_STAGE, jwt }, problems);
}

/** The ECS, ECR and CodeBuild settings alone (`loadConfig` reads them when the runner is `ecs`). */
export function loadEcsSettings(env: Environment = process.env): EcsSettings {
  const problems: string[] = [];
  return valid(parseEcsSettings(env, problems), problems);
}

/** The part of every other function: the service, plus ECS and the log pipeline where configured. */
export function loadConfig(env: Environment = process.env): Config {
  const problems: string[] = [];
  const e = parseSection(serviceSchema, env, problems);
  const tiers = parseTiers(env, problems);
  const ecsSettings = e?.PREVIEW_RUNNER === 'ecs' ? parseEcsSettings(env, problems) : undefined;
  const startFunction =
    e?.PREVIEW_RUNNER === 'ecs' ? parseSection(startFunctionSchema, env, problems) : undefined;
  const logPipeline = env.PREVIEW_WEBSOCKET_MANAGEMENT_URL ? parseLogPipeline(env, problems) : undefined;
  if (!e || problems.length > 0) throw new ConfigError(problems);
  return {
    stage: e.PREVIEW_STAGE,
    runner: e.PREVIEW_RUNNER,
    ecs:
      ecsSettings && startFunction
        ? { settings: ecsSettings, startFunction: startFunction.PREVIEW_START_FUNCTION }
        : undefined,
    logPipeline,
    allowUnownedGenerations: e.PREVIEW_ALLOW_UNOWNED_GENERATIONS,
    limits: {
      connectionsPerPreview: e.PREVIEW_MAX_CONNECTIONS_PER_PREVIEW,
      messagesPerSecond: e.PREVIEW_MAX_MESSAGES_PER_SECOND,
      requestsPerSecond: e.PREVIEW_RATE_LIMIT_PER_SECOND,
      requestBurst: e.PREVIEW_RATE_LIMIT_BURST,
    },
    fanOut: {
      concurrency: e.PREVIEW_FAN_OUT_CONCURRENCY,
      sliceConnections: e.PREVIEW_FAN_OUT_SLICE_CONNECTIONS,
      connectionCacheMs: e.PREVIEW_CONNECTION_CACHE_MS,
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
    databaseSnapshots: {
      enabled: e.PREVIEW_DB_SNAPSHOTS,
      repositoryUri: e.PREVIEW_DB_SNAPSHOT_REPOSITORY_URI,
      buildProject: e.PREVIEW_DB_SNAPSHOT_PROJECT,
      maxCount: e.PREVIEW_DB_SNAPSHOT_MAX_COUNT,
      maxAgeSeconds: e.PREVIEW_DB_SNAPSHOT_MAX_AGE_HOURS * 3600,
    },
    localRuntime: {
      launchConcurrency: e.PREVIEW_LOCAL_LAUNCH_CONCURRENCY,
      stepTimeoutSeconds: e.PREVIEW_LOCAL_STEP_TIMEOUT_SECONDS,
      appAddress: e.PREVIEW_LOCAL_APP_ADDRESS,
    },
    maxBodyBytes: e.PREVIEW_MAX_BODY_BYTES,
    eventRetentionDays: e.PREVIEW_EVENT_RETENTION_DAYS,
    metricsRetentionDays: e.PREVIEW_METRICS_RETENTION_DAYS,
    logRetentionDays: e.PREVIEW_LOG_RETENTION_DAYS,
    resourceSampleSeconds: e.PREVIEW_RESOURCE_SAMPLE_SECONDS,
    resourceSampleConcurrency: e.PREVIEW_RESOURCE_SAMPLE_CONCURRENCY,
    databaseCountSeconds: e.PREVIEW_DATABASE_COUNT_SECONDS,
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
