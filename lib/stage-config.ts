/**
 * Deployment settings read from CDK context (`cdk.json`, `-c key=value`), validated up front so a
 * typo fails the synth with a clear message instead of producing a broken stack.
 */
export interface JwtSettings {
  /** JWKS endpoint of the SaaS identity provider (`https://`). */
  readonly jwksUrl?: string;
  /** Expected `iss` claim. */
  readonly issuer?: string;
  /** Expected `aud` claim. */
  readonly audience?: string;
}

export interface StageConfig {
  /** Deployment stage: names the stack, the API stage and the functions' `PREVIEW_STAGE`. */
  readonly stage: string;
  /** Production keeps data and logs when the stack or a resource is deleted. */
  readonly production: boolean;
  readonly jwt: JwtSettings;
}

/** Reads one context key; `app.node.tryGetContext` fits. */
export type ContextReader = (key: string) => unknown;

const stagePattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const maxStageLength = 32;

export function parseStage(value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw new Error('Missing CDK context "stage": pass -c stage=<name> (e.g. dev, staging, prod).');
  }
  if (typeof value !== 'string' || !stagePattern.test(value) || value.length > maxStageLength) {
    throw new Error(
      `Invalid CDK context "stage": ${JSON.stringify(value)}. Use lowercase letters, digits and single ` +
        `hyphens (not at the start or end), at most ${maxStageLength} characters, e.g. dev or pr-42.`,
    );
  }
  return value;
}

function optionalString(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.trim() !== value || /\s/.test(value)) {
    throw new Error(
      `Invalid CDK context "${key}": ${JSON.stringify(value)}. Expected a string without spaces.`,
    );
  }
  return value;
}

function httpsUrl(key: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Invalid CDK context "${key}": ${JSON.stringify(value)} is not a URL.`);
  }
  // The authorizer fetches the keys from Lambda: plain HTTP would let anyone on the path forge tokens.
  if (url.protocol !== 'https:') {
    throw new Error(`Invalid CDK context "${key}": ${JSON.stringify(value)} must be an https:// URL.`);
  }
  return value;
}

export function parseJwtSettings(read: ContextReader): JwtSettings {
  const jwksUrl = httpsUrl('jwtJwksUrl', optionalString(read, 'jwtJwksUrl'));
  const issuer = optionalString(read, 'jwtIssuer');
  const audience = optionalString(read, 'jwtAudience');
  return {
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  };
}

export function stageConfigFromContext(read: ContextReader): StageConfig {
  const stage = parseStage(read('stage'));
  return { stage, production: stage === 'prod', jwt: parseJwtSettings(read) };
}
