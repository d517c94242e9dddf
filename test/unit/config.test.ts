import { describe, expect, it } from 'vitest';
import { ConfigError, loadAuthorizerConfig, loadConfig, loadEcsSettings } from '#core/config.js';
import { defaultTiers } from '#core/tiers.js';
import { ecsEnvironment } from './aws/aws-fixtures.js';

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
  it('starts from the default tiers and documented defaults', () => {
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

  it('reads ownership and connection limits', () => {
    expect(loadConfig({})).toMatchObject({
      allowUnownedGenerations: false,
      limits: { connectionsPerPreview: 10, messagesPerSecond: 20, requestsPerSecond: 100, requestBurst: 600 },
    });
    expect(
      loadConfig({
        PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'true',
        PREVIEW_MAX_CONNECTIONS_PER_PREVIEW: '3',
        PREVIEW_MAX_MESSAGES_PER_SECOND: '5',
        PREVIEW_RATE_LIMIT_PER_SECOND: '2',
        PREVIEW_RATE_LIMIT_BURST: '4',
      }),
    ).toMatchObject({
      allowUnownedGenerations: true,
      limits: { connectionsPerPreview: 3, messagesPerSecond: 5, requestsPerSecond: 2, requestBurst: 4 },
    });
    expect(problemsOf({ PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'yes' })).toEqual([
      expect.stringMatching(/^PREVIEW_ALLOW_UNOWNED_GENERATIONS: must be true or false/),
    ]);
  });

  it('reads the local runtime’s pace and how it reaches apps', () => {
    expect(loadConfig({}).localRuntime).toEqual({
      launchConcurrency: 4,
      stepTimeoutSeconds: 60,
      appAddress: 'auto',
    });
    expect(
      loadConfig({
        PREVIEW_LOCAL_LAUNCH_CONCURRENCY: '2',
        PREVIEW_LOCAL_STEP_TIMEOUT_SECONDS: '120',
        PREVIEW_LOCAL_APP_ADDRESS: 'published',
      }).localRuntime,
    ).toEqual({ launchConcurrency: 2, stepTimeoutSeconds: 120, appAddress: 'published' });
    expect(problemsOf({ PREVIEW_LOCAL_LAUNCH_CONCURRENCY: '0' })).toEqual([
      expect.stringMatching(/^PREVIEW_LOCAL_LAUNCH_CONCURRENCY: /),
    ]);
    expect(problemsOf({ PREVIEW_LOCAL_APP_ADDRESS: 'host' })).toEqual([
      expect.stringMatching(/^PREVIEW_LOCAL_APP_ADDRESS: /),
    ]);
  });

  it('reads how many previews the local sampler samples at once', () => {
    expect(loadConfig({}).resourceSampleConcurrency).toBe(8);
    expect(loadConfig({ PREVIEW_RESOURCE_SAMPLE_CONCURRENCY: '3' }).resourceSampleConcurrency).toBe(3);
    expect(problemsOf({ PREVIEW_RESOURCE_SAMPLE_CONCURRENCY: '0' })).toEqual([
      expect.stringMatching(/^PREVIEW_RESOURCE_SAMPLE_CONCURRENCY: /),
    ]);
  });

  it('reads none of the authorizer’s settings: a bad JWT variable does not stop the service', () => {
    expect(
      loadConfig({ PREVIEW_JWT_SECRET: 'short-secret', PREVIEW_JWT_MAX_AGE_SECONDS: '5' }),
    ).not.toHaveProperty('jwt');
  });

  it('reads the ECS section only for the ECS runner, and then needs all of it', () => {
    expect(loadConfig({}).ecs).toBeUndefined();
    expect(problemsOf({ PREVIEW_RUNNER: 'ecs' })).toEqual(
      expect.arrayContaining([
        'PREVIEW_ECS_CLUSTER: is required',
        'PREVIEW_START_FUNCTION: the start-preview function name is required',
      ]),
    );
    const config = loadConfig({
      ...ecsEnvironment,
      PREVIEW_RUNNER: 'ecs',
      PREVIEW_START_FUNCTION: 'start-preview',
    });
    expect(config.ecs).toEqual({ settings: loadEcsSettings(ecsEnvironment), startFunction: 'start-preview' });
  });

  it('reads where AWS keeps and makes database snapshots; none locally, where Docker keeps them', () => {
    expect(loadConfig({}).databaseSnapshots).toEqual({
      enabled: true,
      repositoryUri: undefined,
      buildProject: undefined,
      maxCount: 20,
      maxAgeSeconds: 168 * 3600,
    });
    const config = loadConfig({
      PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app',
      PREVIEW_DB_SNAPSHOT_PROJECT: 'preview-db-snapshot-build',
      PREVIEW_DB_SNAPSHOT_MAX_COUNT: '5',
      PREVIEW_DB_SNAPSHOT_MAX_AGE_HOURS: '24',
    });
    expect(config.databaseSnapshots).toEqual({
      enabled: true,
      repositoryUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app',
      buildProject: 'preview-db-snapshot-build',
      maxCount: 5,
      maxAgeSeconds: 24 * 3600,
    });
    expect(problemsOf({ PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: 'registry.example.com/preview-app' })).toEqual([
      'PREVIEW_DB_SNAPSHOT_REPOSITORY_URI: must be an ECR repository URI such as <account>.dkr.ecr.<region>.amazonaws.com/<name>',
    ]);
  });

  it('reads the log pipeline where the WebSocket endpoint is set, and then needs its settings', () => {
    expect(loadConfig({}).logPipeline).toBeUndefined();
    const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com/dev';
    expect(problemsOf({ PREVIEW_WEBSOCKET_MANAGEMENT_URL: endpoint })).toEqual([
      'PREVIEW_LOG_GROUP: is required for logs and the WebSocket API',
      'PREVIEW_ECS_CLUSTER: is required for logs and the WebSocket API',
      'PREVIEW_LOG_REPLAY_FUNCTION: is required for logs and the WebSocket API',
      'PREVIEW_REDACTIONS_TABLE: is required for logs and the WebSocket API',
    ]);
    const logPipeline = {
      PREVIEW_WEBSOCKET_MANAGEMENT_URL: endpoint,
      PREVIEW_LOG_GROUP: '/preview/dev',
      PREVIEW_ECS_CLUSTER: 'previews',
      PREVIEW_LOG_REPLAY_FUNCTION: 'replay-logs',
      PREVIEW_REDACTIONS_TABLE: 'preview-redactions',
    };
    expect(loadConfig(logPipeline).logPipeline).toEqual({
      managementEndpoint: endpoint,
      logGroup: '/preview/dev',
      cluster: 'previews',
      replayFunction: 'replay-logs',
      redactionsTable: 'preview-redactions',
      exportsBucket: undefined,
      exportsPrefix: 'exports/',
    });
    expect(loadConfig({ ...logPipeline, PREVIEW_EXPORTS_BUCKET: 'exports' }).logPipeline?.exportsBucket).toBe(
      'exports',
    );
  });
});

describe('loadAuthorizerConfig', () => {
  function authorizerProblemsOf(env: Record<string, string>): string[] {
    try {
      loadAuthorizerConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return [...(error as ConfigError).problems];
    }
    throw new Error('expected a ConfigError');
  }

  it('needs a JWT secret of at least 32 bytes', () => {
    expect(authorizerProblemsOf({ PREVIEW_JWT_SECRET: 'short-secret' })).toEqual([
      expect.stringMatching(/^PREVIEW_JWT_SECRET: must be at least 32 bytes/),
    ]);
    expect(loadAuthorizerConfig({ PREVIEW_JWT_SECRET: 'x'.repeat(32) }).jwt.secret).toBe('x'.repeat(32));
  });

  it('needs the issuer and the audience with a JWKS URL', () => {
    expect(authorizerProblemsOf({ PREVIEW_JWT_JWKS_URL: 'https://id.example.com/jwks.json' })).toEqual([
      'PREVIEW_JWT_ISSUER: is required with PREVIEW_JWT_JWKS_URL',
      'PREVIEW_JWT_AUDIENCE: is required with PREVIEW_JWT_JWKS_URL',
    ]);
    const config = loadAuthorizerConfig({
      PREVIEW_JWT_JWKS_URL: 'https://id.example.com/jwks.json',
      PREVIEW_JWT_ISSUER: 'https://id.example.com/',
      PREVIEW_JWT_AUDIENCE: 'preview',
    });
    expect(config.jwt).toMatchObject({ issuer: 'https://id.example.com/', audience: 'preview' });
  });

  it('reads the stage, the token age limit and the decision cache, and nothing of the service', () => {
    expect(loadAuthorizerConfig({})).toEqual({
      stage: 'local',
      jwt: {
        secret: undefined,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        maxAgeSeconds: undefined,
        cacheSeconds: 60,
      },
    });
    expect(
      loadAuthorizerConfig({
        PREVIEW_STAGE: 'dev',
        PREVIEW_JWT_MAX_AGE_SECONDS: '3600',
        PREVIEW_AUTHORIZER_CACHE_SECONDS: '0',
        // The service's settings are none of the authorizer's business, even when wrong.
        PREVIEW_RUNNER: 'ecs',
        PREVIEW_MAX_BODY_BYTES: '12',
      }),
    ).toMatchObject({ stage: 'dev', jwt: { maxAgeSeconds: 3600, cacheSeconds: 0 } });
    expect(authorizerProblemsOf({ PREVIEW_JWT_MAX_AGE_SECONDS: '5', PREVIEW_STAGE: 'Prod!' })).toEqual([
      expect.stringMatching(/^PREVIEW_STAGE: /),
      expect.stringMatching(/^PREVIEW_JWT_MAX_AGE_SECONDS: /),
    ]);
  });
});
