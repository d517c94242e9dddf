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
});
