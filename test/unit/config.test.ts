import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../functions/core/config.js';
import { defaultTiers } from '../../functions/core/tiers.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts from the seed tiers and documented defaults', () => {
    const config = loadConfig({});
    expect(config.tiers).toEqual(defaultTiers);
    expect(config.tiers.free).toMatchObject({ memory: 256, cpu: 0.5 });
    expect(config.tiers.pro).toMatchObject({ memory: 1024, cpu: 2 });
    expect(config.tiers.enterprise).toMatchObject({ memory: 2048, cpu: 4 });
    expect(config.generations.directory).toBe('examples/generations');
    expect(config.stage).toBe('local');
  });

  it('merges a tier override with the defaults', () => {
    const config = loadConfig({ PREVIEW_RESOURCE_TIER_PRO: '{"memory": 512, "maxConcurrentPreviews": 7}' });
    expect(config.tiers.pro).toEqual({ ...defaultTiers.pro, memory: 512, maxConcurrentPreviews: 7 });
    expect(config.tiers.free).toEqual(defaultTiers.free);
  });

  it('names the variable that is not JSON', () => {
    expect(problemsOf({ PREVIEW_RESOURCE_TIER_FREE: '{memory: 1' })).toEqual([
      expect.stringMatching(/^PREVIEW_RESOURCE_TIER_FREE: not valid JSON/),
    ]);
  });

  it('names the variable and field that is out of range or unknown', () => {
    const problems = problemsOf({
      PREVIEW_RESOURCE_TIER_ENTERPRISE: '{"memory": -5, "gpu": 1}',
      PREVIEW_RESOURCE_TIER_FREE: '{"cpu": "lots"}',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PREVIEW_RESOURCE_TIER_ENTERPRISE\.memory: /),
        expect.stringMatching(/^PREVIEW_RESOURCE_TIER_ENTERPRISE: .*gpu/),
        expect.stringMatching(/^PREVIEW_RESOURCE_TIER_FREE\.cpu: /),
      ]),
    );
  });

  it('reports every bad variable at once, in a readable message', () => {
    try {
      loadConfig({ PREVIEW_RUNNER: 'kubernetes', PREVIEW_MAX_BODY_BYTES: '12', PREVIEW_STAGE: 'Prod!' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid configuration:/);
      expect(message).toContain('PREVIEW_RUNNER');
      expect(message).toContain('PREVIEW_MAX_BODY_BYTES');
      expect(message).toContain('PREVIEW_STAGE');
    }
  });

  it('treats a blank override as unset', () => {
    expect(loadConfig({ PREVIEW_RESOURCE_TIER_FREE: '  ' }).tiers.free).toEqual(defaultTiers.free);
  });

  it('needs a JWT secret of at least 32 bytes', () => {
    expect(problemsOf({ PREVIEW_JWT_SECRET: 'short-secret' })).toEqual([
      expect.stringMatching(/^PREVIEW_JWT_SECRET: must be at least 32 bytes/),
    ]);
    expect(loadConfig({ PREVIEW_JWT_SECRET: 'x'.repeat(32) }).jwt.secret).toBe('x'.repeat(32));
  });

  it('needs the issuer and the audience with a JWKS URL', () => {
    expect(problemsOf({ PREVIEW_JWT_JWKS_URL: 'https://id.example.com/jwks.json' })).toEqual([
      'PREVIEW_JWT_ISSUER: is required with PREVIEW_JWT_JWKS_URL',
      'PREVIEW_JWT_AUDIENCE: is required with PREVIEW_JWT_JWKS_URL',
    ]);
    const config = loadConfig({
      PREVIEW_JWT_JWKS_URL: 'https://id.example.com/jwks.json',
      PREVIEW_JWT_ISSUER: 'https://id.example.com/',
      PREVIEW_JWT_AUDIENCE: 'preview',
    });
    expect(config.jwt).toMatchObject({ issuer: 'https://id.example.com/', audience: 'preview' });
  });

  it('reads the token age limit, the authorizer cache, ownership and connection limits', () => {
    expect(loadConfig({})).toMatchObject({
      jwt: { maxAgeSeconds: undefined, cacheSeconds: 60 },
      allowUnownedGenerations: false,
      limits: { connectionsPerPreview: 10, messagesPerSecond: 20, requestsPerSecond: 100, requestBurst: 600 },
    });
    expect(
      loadConfig({
        PREVIEW_JWT_MAX_AGE_SECONDS: '3600',
        PREVIEW_AUTHORIZER_CACHE_SECONDS: '0',
        PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'true',
        PREVIEW_MAX_CONNECTIONS_PER_PREVIEW: '3',
        PREVIEW_MAX_MESSAGES_PER_SECOND: '5',
        PREVIEW_RATE_LIMIT_PER_SECOND: '2',
        PREVIEW_RATE_LIMIT_BURST: '4',
      }),
    ).toMatchObject({
      jwt: { maxAgeSeconds: 3600, cacheSeconds: 0 },
      allowUnownedGenerations: true,
      limits: { connectionsPerPreview: 3, messagesPerSecond: 5, requestsPerSecond: 2, requestBurst: 4 },
    });
    expect(
      problemsOf({ PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'yes', PREVIEW_JWT_MAX_AGE_SECONDS: '5' }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PREVIEW_ALLOW_UNOWNED_GENERATIONS: must be true or false/),
        expect.stringMatching(/^PREVIEW_JWT_MAX_AGE_SECONDS: /),
      ]),
    );
  });
});
