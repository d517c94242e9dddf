import { describe, expect, it } from 'vitest';
import { loadConfig } from '#core/config.js';
import { maintenanceRefusal, parseMaintenanceSetting } from '#core/maintenance.js';

describe('maintenance settings', () => {
  it('are on or off, in any case, with spaces ignored; anything else is no setting', () => {
    expect(parseMaintenanceSetting('on')).toBe(true);
    expect(parseMaintenanceSetting(' OFF\n')).toBe(false);
    expect(parseMaintenanceSetting('true')).toBeUndefined();
    expect(parseMaintenanceSetting('')).toBeUndefined();
  });

  it('locally come from PREVIEW_MAINTENANCE; in AWS from the parameter the stack names', () => {
    expect(loadConfig({}).maintenance).toEqual({ on: false, parameter: undefined, cacheSeconds: 30 });
    expect(
      loadConfig({
        PREVIEW_MAINTENANCE: 'On',
        PREVIEW_MAINTENANCE_PARAMETER: '/preview/dev/maintenance',
        PREVIEW_MAINTENANCE_CACHE_SECONDS: '10',
      }).maintenance,
    ).toEqual({ on: true, parameter: '/preview/dev/maintenance', cacheSeconds: 10 });
    expect(() => loadConfig({ PREVIEW_MAINTENANCE: 'yes' })).toThrow(
      'PREVIEW_MAINTENANCE: must be on or off',
    );
  });

  it('refuse with 503 maintenance and a Retry-After', () => {
    expect(maintenanceRefusal()).toMatchObject({ code: 'maintenance', retryAfterSeconds: 300 });
  });
});
