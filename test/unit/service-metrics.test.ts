import { describe, expect, it } from 'vitest';
import { countLaunchFailure, launchFailureCause, type ServiceMetrics } from '#core/service-metrics.js';

describe('launch failures by cause', () => {
  it("are the app's when its build, code, port, database steps, health endpoint or memory failed", () => {
    for (const reason of [
      'build_error',
      'dependency_install',
      'import_error',
      'port_mismatch',
      'loopback_only',
      'migration_failed',
      'seed_failed',
      'health_not_found',
      'out_of_memory',
      'exit_nonzero',
      'health_check',
      'restart_limit',
    ]) {
      expect(launchFailureCause(reason), reason).toBe('app');
    }
  });

  it("are the service's otherwise, including reasons it does not know yet", () => {
    for (const reason of [
      'internal',
      'runtime_lost',
      'runtime_unavailable',
      'timeout',
      'start_failed',
      'new_reason',
    ]) {
      expect(launchFailureCause(reason), reason).toBe('service');
    }
  });

  it('are counted by reason and by cause', () => {
    const counted: [string, Record<string, string> | undefined][] = [];
    const metrics: ServiceMetrics = {
      count: (name, dimensions) => counted.push([name, dimensions]),
      milliseconds: () => undefined,
      gauge: () => undefined,
    };
    countLaunchFailure(metrics, 'out_of_memory');
    countLaunchFailure(metrics, 'runtime_lost');
    expect(counted).toEqual([
      ['LaunchFailures', { reason: 'out_of_memory' }],
      ['AppLaunchFailures', undefined],
      ['LaunchFailures', { reason: 'runtime_lost' }],
      ['ServiceLaunchFailures', undefined],
    ]);
  });
});
