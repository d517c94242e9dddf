import { tierNames, tierSchema, type Tier, type TierName } from '#core/tiers.js';

/**
 * Deployment settings read from CDK context, validated up front so a typo fails the synth with a clear
 * message instead of producing a broken stack. A setting comes from `-c key=value` when given, else from
 * the stage's block in `cdk.json` (`"stages": {"prod": {...}}`), else its default.
 */
export interface JwtSettings {
  /** JWKS endpoint of the SaaS identity provider (`https://`). */
  readonly jwksUrl?: string;
  /** Expected `iss` claim. */
  readonly issuer?: string;
  /** Expected `aud` claim. */
  readonly audience?: string;
}

export type TierOverrides = Partial<Record<TierName, Partial<Tier>>>;

/** Reserved concurrency of the functions that could otherwise take the whole account's. */
export interface ConcurrencySettings {
  /** start-preview: launches being built and started at once (each up to 15 minutes). */
  readonly startPreview: number;
  /** log-fan-out: subscription deliveries handled at once. */
  readonly fanOut: number;
}

/** Modest, so that a stage fits in an account's default quota (1,000) with room for others. */
export const defaultConcurrency: ConcurrencySettings = { startPreview: 20, fanOut: 20 };
/** The most either may reserve: Lambda needs 100 unreserved in the account, whatever stages share it. */
export const maxReservedConcurrency = 200;

export interface StageConfig {
  /** Deployment stage: names the stack, the API stages, the preview log group and `PREVIEW_STAGE`. */
  readonly stage: string;
  /** Production keeps data and logs when the stack or a resource is deleted. */
  readonly production: boolean;
  readonly jwt: JwtSettings;
  /** The SaaS frontend's origin, allowed by CORS; absent: no cross-origin access. */
  readonly allowedOrigin?: string;
  /** Overrides of the tiers' defaults, handed to the functions as `PREVIEW_RESOURCE_TIER_*`. */
  readonly tiers: TierOverrides;
  /** Retention of every log group of the stage, in days. */
  readonly logRetentionDays: number;
  /** NAT gateways for the functions' subnets: 1 is cheaper, 2 survives the loss of an availability zone. */
  readonly natGateways: number;
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /** A regional WAFv2 web ACL to associate with the REST API stage, instead of the stack's own. */
  readonly webAclArn?: string;
  /** The stack's web ACL: REST requests per minute per Authorization header, then 429. */
  readonly userRateLimitPerMinute: number;
  /** Refuse new launches (429) while everything else keeps working: set before a risky deploy. */
  readonly drainLaunches: boolean;
  /** Start PostgreSQL launches from database snapshots (made by the snapshot project); off: every launch migrates. */
  readonly databaseSnapshots: boolean;
  readonly concurrency: ConcurrencySettings;
}

/** Reads one context key; `app.node.tryGetContext` fits. */
export type ContextReader = (key: string) => unknown;

const stagePattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Names derived from the stage have tight limits (the ECR pull-through prefix `preview-<stage>`: 30). */
const maxStageLength = 20;
const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const webAclArnPattern = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[\w-]+\/[\w-]+$/;
/** The values CloudWatch Logs accepts. */
export const logRetentionValues = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

function invalid(key: string, value: unknown, expected: string): Error {
  return new Error(`Invalid CDK context "${key}": ${JSON.stringify(value)}. ${expected}`);
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

export function parseStage(value: unknown): string {
  if (isMissing(value)) {
    throw new Error('Missing CDK context "stage": pass -c stage=<name> (e.g. dev, staging, prod).');
  }
  if (typeof value !== 'string' || !stagePattern.test(value) || value.length > maxStageLength) {
    throw invalid(
      'stage',
      value,
      'Use lowercase letters, digits and single hyphens (not at the start or end), ' +
        `at most ${maxStageLength} characters, e.g. dev or pr-42.`,
    );
  }
  return value;
}

function optionalString(key: string, value: unknown): string | undefined {
  if (isMissing(value)) return undefined;
  if (typeof value !== 'string' || value.trim() !== value || /\s/.test(value)) {
    throw invalid(key, value, 'Expected a string without spaces.');
  }
  return value;
}

function parseUrl(key: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw invalid(key, value, 'It is not a URL.');
  }
}

function httpsUrl(key: string, value: unknown): string | undefined {
  const text = optionalString(key, value);
  if (text === undefined) return undefined;
  // The authorizer fetches the keys from Lambda: plain HTTP would let anyone on the path forge tokens.
  if (parseUrl(key, text).protocol !== 'https:') throw invalid(key, text, 'It must be an https:// URL.');
  return text;
}

export function parseJwtSettings(read: ContextReader): JwtSettings {
  const jwksUrl = httpsUrl('jwtJwksUrl', read('jwtJwksUrl'));
  const issuer = optionalString('jwtIssuer', read('jwtIssuer'));
  const audience = optionalString('jwtAudience', read('jwtAudience'));
  // A JWKS's keys sign tokens for every tenant of the identity provider: only ours may pass.
  if (jwksUrl !== undefined) {
    const missing = [
      ...(issuer === undefined ? ['jwtIssuer'] : []),
      ...(audience === undefined ? ['jwtAudience'] : []),
    ];
    if (missing.length > 0) {
      throw new Error(
        `Missing CDK context ${missing.map((key) => `"${key}"`).join(' and ')}: required with "jwtJwksUrl" ` +
          '(the expected iss and aud claims of the SaaS tokens).',
      );
    }
  }
  return {
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  };
}

/** An origin as browsers send it: `https://host[:port]`, or plain http on localhost for development. */
export function parseAllowedOrigin(value: unknown): string | undefined {
  const key = 'allowedOrigin';
  const text = optionalString(key, value);
  if (text === undefined) return undefined;
  const url = parseUrl(key, text);
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname);
  if (url.origin !== text || (url.protocol !== 'https:' && !local)) {
    throw invalid(
      key,
      text,
      'Expected an origin such as https://app.example.com (no path, no trailing slash); ' +
        'http:// only for localhost.',
    );
  }
  return text;
}

/** `{"free": {"memory": 512}}`, as an object in cdk.json or a JSON string from `-c tiers=...`. */
export function parseTiers(value: unknown): TierOverrides {
  const key = 'tiers';
  if (isMissing(value)) return {};
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      throw invalid(key, value, 'Expected a JSON object such as {"free": {"memory": 512}}.');
    }
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw invalid(key, value, 'Expected an object such as {"free": {"memory": 512}}.');
  }
  const tiers: TierOverrides = {};
  for (const [name, fields] of Object.entries(object)) {
    if (!(tierNames as readonly string[]).includes(name)) {
      throw invalid(`${key}.${name}`, fields, `Tiers are ${tierNames.join(', ')}.`);
    }
    const parsed = tierSchema.partial().safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
      throw invalid(`${key}.${name}${where}`, fields, `${issue?.message ?? 'Invalid tier'}.`);
    }
    tiers[name as TierName] = parsed.data;
  }
  return tiers;
}

function integerIn(key: string, value: unknown, allowed: readonly number[], fallback: number): number {
  if (isMissing(value)) return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !allowed.includes(number)) {
    throw invalid(key, value, `Expected one of ${allowed.join(', ')}.`);
  }
  return number;
}

function integerBetween(key: string, value: unknown, min: number, max: number, fallback: number): number {
  if (isMissing(value)) return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw invalid(key, value, `Expected a whole number from ${min} to ${max}.`);
  }
  return number;
}

/** WAF rate-based rules accept limits from 10 (per window) up. */
const minUserRateLimit = 10;
const maxUserRateLimit = 2_000_000_000;
export const defaultUserRateLimitPerMinute = 300;

function optionalMatching(key: string, value: unknown, pattern: RegExp, expected: string) {
  const text = optionalString(key, value);
  if (text !== undefined && !pattern.test(text)) throw invalid(key, text, expected);
  return text;
}

function optionalBoolean(key: string, value: unknown): boolean | undefined {
  if (isMissing(value)) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(key, value, 'Expected true or false.');
}

/** The `stages.<stage>` block of cdk.json, or nothing. */
function stageBlock(read: ContextReader, stage: string): Record<string, unknown> {
  const stages = read('stages');
  if (isMissing(stages)) return {};
  if (typeof stages !== 'object' || stages === null || Array.isArray(stages)) {
    throw invalid('stages', stages, 'Expected an object of per-stage settings, e.g. {"prod": {...}}.');
  }
  const block = (stages as Record<string, unknown>)[stage];
  if (block === undefined) return {};
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    throw invalid(`stages.${stage}`, block, 'Expected an object of settings.');
  }
  return block as Record<string, unknown>;
}

/**
 * The whole configuration of a stage. Every invalid setting is reported at once, one per line, each
 * naming its context key.
 */
export function stageConfigFromContext(read: ContextReader): StageConfig {
  const stage = parseStage(read('stage'));
  const block = stageBlock(read, stage);
  const setting: ContextReader = (key) => {
    const value = read(key);
    return value === undefined ? block[key] : value;
  };

  const problems: string[] = [];
  function attempt<T>(parse: () => T, fallback: T): T {
    try {
      return parse();
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return fallback;
    }
  }

  const production = attempt(() => optionalBoolean('production', setting('production')), undefined);
  const jwt = attempt(() => parseJwtSettings(setting), {});
  const allowedOrigin = attempt(() => parseAllowedOrigin(setting('allowedOrigin')), undefined);
  const tiers = attempt(() => parseTiers(setting('tiers')), {});
  const logRetentionDays = attempt(
    () => integerIn('logRetentionDays', setting('logRetentionDays'), logRetentionValues, 30),
    30,
  );
  const natGateways = attempt(() => integerIn('natGateways', setting('natGateways'), [1, 2], 1), 1);
  const alarmEmail = attempt(
    () => optionalMatching('alarmEmail', setting('alarmEmail'), emailPattern, 'Expected an email address.'),
    undefined,
  );
  const webAclArn = attempt(
    () =>
      optionalMatching(
        'webAclArn',
        setting('webAclArn'),
        webAclArnPattern,
        'Expected the ARN of a regional WAFv2 web ACL.',
      ),
    undefined,
  );
  const userRateLimitPerMinute = attempt(
    () =>
      integerBetween(
        'userRateLimitPerMinute',
        setting('userRateLimitPerMinute'),
        minUserRateLimit,
        maxUserRateLimit,
        defaultUserRateLimitPerMinute,
      ),
    defaultUserRateLimitPerMinute,
  );
  const drainLaunches = attempt(() => optionalBoolean('drainLaunches', setting('drainLaunches')), undefined);
  const databaseSnapshots = attempt(
    () => optionalBoolean('databaseSnapshots', setting('databaseSnapshots')),
    undefined,
  );
  const concurrency: ConcurrencySettings = {
    startPreview: attempt(
      () =>
        integerBetween(
          'startPreviewConcurrency',
          setting('startPreviewConcurrency'),
          1,
          maxReservedConcurrency,
          defaultConcurrency.startPreview,
        ),
      defaultConcurrency.startPreview,
    ),
    fanOut: attempt(
      () =>
        integerBetween(
          'fanOutConcurrency',
          setting('fanOutConcurrency'),
          1,
          maxReservedConcurrency,
          defaultConcurrency.fanOut,
        ),
      defaultConcurrency.fanOut,
    ),
  };
  if (problems.length > 0) throw new Error(problems.join('\n'));

  return {
    stage,
    production: production ?? stage === 'prod',
    jwt,
    ...(allowedOrigin === undefined ? {} : { allowedOrigin }),
    tiers,
    logRetentionDays,
    natGateways,
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
    ...(webAclArn === undefined ? {} : { webAclArn }),
    userRateLimitPerMinute,
    drainLaunches: drainLaunches ?? false,
    databaseSnapshots: databaseSnapshots ?? true,
    concurrency,
  };
}
