import { describe, expect, it } from 'vitest';
import {
  parseAllowedOrigin,
  parseJwtSettings,
  parseStage,
  parseTiers,
  stageConfigFromContext,
} from '#lib/stage-config.js';
import { jwtContext } from './synth.js';

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

describe('stage', () => {
  it('accepts lowercase names with digits and single hyphens, up to 20 characters', () => {
    for (const stage of ['dev', 'prod', 'pr-42', 'eu1-staging', 'a'.repeat(20)])
      expect(parseStage(stage)).toBe(stage);
  });

  it('rejects anything else with a message naming the context key', () => {
    for (const stage of [
      'Dev',
      'dev_1',
      '-dev',
      'dev-',
      'de--v',
      'dev env',
      'a'.repeat(21),
      42,
      '',
      undefined,
    ]) {
      expect(() => parseStage(stage)).toThrow(/context "stage"/);
    }
  });
});

describe('settings', () => {
  it('JWT: the JWKS URL must be https, and no value may hold spaces', () => {
    expect(parseJwtSettings(reader(jwtContext))).toEqual({
      jwksUrl: jwtContext.jwtJwksUrl,
      issuer: jwtContext.jwtIssuer,
      audience: jwtContext.jwtAudience,
    });
    expect(parseJwtSettings(reader({}))).toEqual({});
    expect(() => parseJwtSettings(reader({ jwtJwksUrl: 'http://id.example.com/jwks' }))).toThrow(/https/);
    expect(() => parseJwtSettings(reader({ jwtJwksUrl: 'not a url' }))).toThrow(/jwtJwksUrl/);
    expect(() => parseJwtSettings(reader({ jwtAudience: 'two words' }))).toThrow(/jwtAudience/);
    expect(() => parseJwtSettings(reader({ jwtIssuer: 7 }))).toThrow(/jwtIssuer/);
  });

  it('JWT: a JWKS URL needs the issuer and the audience', () => {
    const { jwtJwksUrl, jwtIssuer, jwtAudience } = jwtContext;
    expect(() => parseJwtSettings(reader({ jwtJwksUrl }))).toThrow(
      /Missing CDK context "jwtIssuer" and "jwtAudience": required with "jwtJwksUrl"/,
    );
    expect(() => parseJwtSettings(reader({ jwtJwksUrl, jwtIssuer }))).toThrow(/"jwtAudience"/);
    expect(() => parseJwtSettings(reader({ jwtJwksUrl, jwtAudience }))).toThrow(/"jwtIssuer"/);
    expect(() => stageConfigFromContext(reader({ stage: 'dev', jwtJwksUrl }))).toThrow(/jwtIssuer/);
  });

  it('allowed origin: an https origin, or http on localhost', () => {
    expect(parseAllowedOrigin('https://app.example.com')).toBe('https://app.example.com');
    expect(parseAllowedOrigin('http://localhost:5173')).toBe('http://localhost:5173');
    expect(parseAllowedOrigin(undefined)).toBeUndefined();
    for (const bad of [
      'https://app.example.com/',
      'https://app.example.com/x',
      'http://app.example.com',
      '*',
    ]) {
      expect(() => parseAllowedOrigin(bad)).toThrow(/context "allowedOrigin"/);
    }
  });

  it('tiers: partial overrides of known tiers, as an object or JSON, validated like the runtime does', () => {
    expect(parseTiers({ free: { memory: 512 } })).toEqual({ free: { memory: 512 } });
    expect(parseTiers('{"pro": {"maxConcurrentPreviews": 8}}')).toEqual({
      pro: { maxConcurrentPreviews: 8 },
    });
    expect(() => parseTiers({ gold: { memory: 512 } })).toThrow(/"tiers.gold"/);
    expect(() => parseTiers({ free: { memory: 64 } })).toThrow(/"tiers.free.memory"/);
    expect(() => parseTiers({ free: { colour: 'red' } })).toThrow(/"tiers.free"/);
    expect(() => parseTiers('{not json')).toThrow(/"tiers"/);
  });

  it('takes -c values over the stage block of cdk.json, and defaults last', () => {
    const config = stageConfigFromContext(
      reader({
        stage: 'prod',
        logRetentionDays: '90',
        stages: { prod: { logRetentionDays: 365, natGateways: 2, allowedOrigin: 'https://app.example.com' } },
      }),
    );
    expect(config).toEqual({
      stage: 'prod',
      production: true,
      jwt: {},
      allowedOrigin: 'https://app.example.com',
      tiers: {},
      logRetentionDays: 90,
      natGateways: 2,
      userRateLimitPerMinute: 300,
      drainLaunches: false,
      databaseSnapshots: true,
      concurrency: { startPreview: 20, fanOut: 20 },
    });
    expect(stageConfigFromContext(reader({ stage: 'pr-7' }))).toMatchObject({
      production: false,
      logRetentionDays: 30,
      natGateways: 1,
    });
    expect(
      stageConfigFromContext(reader({ stage: 'dev', stages: { dev: { userRateLimitPerMinute: 1200 } } })),
    ).toMatchObject({ userRateLimitPerMinute: 1200 });
    expect(stageConfigFromContext(reader({ stage: 'dev', userRateLimitPerMinute: '60' }))).toMatchObject({
      userRateLimitPerMinute: 60,
    });
  });

  it('reports every invalid setting at once, one per line, each naming its key', () => {
    const read = reader({
      stage: 'dev',
      logRetentionDays: 10,
      natGateways: 3,
      alarmEmail: 'nobody',
      webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:global/webacl/x/y',
      drainLaunches: 'maybe',
      databaseSnapshots: 'sometimes',
      production: 'yes',
      startPreviewConcurrency: 0,
      fanOutConcurrency: '1000',
      userRateLimitPerMinute: 5,
    });
    let message = '';
    try {
      stageConfigFromContext(read);
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    for (const key of [
      'logRetentionDays',
      'natGateways',
      'alarmEmail',
      'webAclArn',
      'drainLaunches',
      'databaseSnapshots',
      'production',
      'startPreviewConcurrency',
      'fanOutConcurrency',
      'userRateLimitPerMinute',
    ]) {
      expect(
        lines.some((line) => line.startsWith(`Invalid CDK context "${key}"`)),
        key,
      ).toBe(true);
    }
    expect(lines).toHaveLength(10);
    expect(message).toContain(
      'Invalid CDK context "fanOutConcurrency": "1000". Expected a whole number from 1 to 200.',
    );
  });

  it('sizes the reserved concurrency of start-preview and log-fan-out, from -c or the stage block', () => {
    expect(
      stageConfigFromContext(
        reader({ stage: 'prod', startPreviewConcurrency: '50', stages: { prod: { fanOutConcurrency: 40 } } }),
      ).concurrency,
    ).toEqual({ startPreview: 50, fanOut: 40 });
    expect(() => stageConfigFromContext(reader({ stage: 'dev', fanOutConcurrency: 2.5 }))).toThrow(
      /"fanOutConcurrency"/,
    );
  });

  it('refuses a stages block that is not an object of objects', () => {
    expect(() => stageConfigFromContext(reader({ stage: 'dev', stages: [] }))).toThrow(/"stages"/);
    expect(() => stageConfigFromContext(reader({ stage: 'dev', stages: { dev: 'x' } }))).toThrow(
      /"stages.dev"/,
    );
  });
});
