import { afterEach, describe, expect, it, vi } from 'vitest';
import { powertoolsServiceMetrics } from '#adapters/aws/powertools-service-metrics.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The EMF documents written while `run` runs. */
function emitted(run: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  run();
  vi.restoreAllMocks();
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('_aws'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('service metrics in Embedded Metric Format', () => {
  it('writes EMF documents in the PreviewService namespace with the stage, and failure totals beside reasons', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const metrics = powertoolsServiceMetrics('dev');
    const [failure, failureTotal, duration] = emitted(() => {
      metrics.count('LaunchFailures', { reason: 'out_of_memory' });
      metrics.milliseconds('LaunchDurationMs', 1234);
    });
    expect(failure).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'PreviewService',
            Dimensions: [['service', 'stage', 'reason']],
            Metrics: [{ Name: 'LaunchFailures', Unit: 'Count' }],
          },
        ],
      },
      stage: 'dev',
      reason: 'out_of_memory',
      LaunchFailures: 1,
    });
    expect(failureTotal).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Dimensions: [['service', 'stage']], Metrics: [{ Name: 'LaunchFailures' }] }],
      },
      LaunchFailures: 1,
    });
    expect(failureTotal).not.toHaveProperty('reason');
    expect(duration).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'LaunchDurationMs', Unit: 'Milliseconds' }] }] },
      LaunchDurationMs: 1234,
    });
  });

  it('writes nothing when disabled, as in the local runtime', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const metrics = powertoolsServiceMetrics('dev');
    expect(emitted(() => metrics.gauge('ActivePreviews', 3))).toEqual([]);
  });
});
