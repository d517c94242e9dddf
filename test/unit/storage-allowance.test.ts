import { describe, expect, it } from 'vitest';
import type { LiveNotifier } from '#core/log-ports.js';
import type { ResourceSample } from '#core/metrics.js';
import type { MetricsStore, PreviewStore } from '#core/ports.js';
import type { PreviewRecord } from '#core/preview.js';
import { ResourceSampler } from '#core/services/resource-sampler.js';
import { formatBytes, storageVerdict } from '#core/storage-allowance.js';
import type { ContainerStats, TaskRunner } from '#core/task-runner.js';

const gb = 1024 ** 3;

describe('storageVerdict', () => {
  it('is within below 90%, a warning from 90%, exceeded from 100% of the allowance', () => {
    expect(storageVerdict(0, 1)).toEqual({ state: 'within' });
    expect(storageVerdict(0.899 * gb, 1)).toEqual({ state: 'within' });
    expect(storageVerdict(0.9 * gb, 1)).toEqual({ state: 'warning', percent: 90 });
    expect(storageVerdict(gb - 1, 1)).toEqual({ state: 'warning', percent: 100 });
    expect(storageVerdict(gb, 1)).toEqual({ state: 'exceeded', percent: 100 });
    expect(storageVerdict(6 * gb, 5)).toEqual({ state: 'exceeded', percent: 120 });
  });

  it('reads fractional allowances', () => {
    expect(storageVerdict(10 * 1024 ** 2, 0.01)).toEqual({ state: 'warning', percent: 97.7 });
  });
});

describe('formatBytes', () => {
  it('says sizes the way status shows them', () => {
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1536)).toBe('1.5KB');
    expect(formatBytes(12.34 * 1024 ** 2)).toBe('12.3MB');
    expect(formatBytes(2 * gb)).toBe('2GB');
  });
});

describe('ResourceSampler and the storage allowance', () => {
  const record = {
    previewId: 'preview_1',
    status: 'healthy',
    tier: 'free',
    resources: { memoryMb: 256, cpu: 0.5, storageGb: 1 },
  } as PreviewRecord;
  const base: ContainerStats = {
    memoryUsedBytes: 1,
    memoryLimitBytes: 2,
    cpuCores: 0,
    networkRxBytes: 0,
    networkTxBytes: 0,
  };

  function sampler(storage: (number | undefined)[]) {
    const readings = [...storage];
    const recorded: ResourceSample[] = [];
    const warnings: unknown[] = [];
    const stops: string[] = [];
    const instance = new ResourceSampler({
      previews: { listLive: async () => [record] } as unknown as PreviewStore,
      runner: {
        stats: async () => {
          const used = readings.shift();
          return used === undefined ? base : { ...base, storageUsedBytes: used };
        },
      } as unknown as TaskRunner,
      metrics: {
        recordResources: async (_id: string, s: ResourceSample) => void recorded.push(s),
      } as unknown as MetricsStore,
      clock: { now: () => new Date('2026-12-02T10:00:00.000Z') },
      notifier: {
        resourcesSampled: async () => {},
        storageFilling: async (previewId: string, usage: unknown) => void warnings.push({ previewId, usage }),
      } as unknown as LiveNotifier,
      stopper: { stopForStorage: async (_r, message) => void stops.push(message) },
    });
    return { instance, recorded, warnings, stops };
  }

  it('keeps the storage reading with the sample', async () => {
    const { instance, recorded } = sampler([0.5 * gb]);
    await instance.sampleAll();
    expect(recorded[0]).toMatchObject({ storageUsedBytes: 0.5 * gb, at: '2026-12-02T10:00:00.000Z' });
  });

  it('warns once per crossing of 90%, again after falling below it', async () => {
    const { instance, warnings, stops } = sampler([0.95 * gb, 0.96 * gb, 0.5 * gb, 0.91 * gb]);
    for (let n = 0; n < 4; n += 1) await instance.sampleAll();
    expect(warnings).toEqual([
      {
        previewId: 'preview_1',
        usage: { at: '2026-12-02T10:00:00.000Z', usedBytes: 0.95 * gb, storageGb: 1, percent: 95 },
      },
      {
        previewId: 'preview_1',
        usage: { at: '2026-12-02T10:00:00.000Z', usedBytes: 0.91 * gb, storageGb: 1, percent: 91 },
      },
    ]);
    expect(stops).toEqual([]);
  });

  it('stops the preview with the reason at 100%', async () => {
    const { instance, stops, warnings } = sampler([gb]);
    await instance.sampleAll();
    expect(stops).toEqual(['its storage is full: 1GB used of the 1GB the free tier allows']);
    expect(warnings).toEqual([]);
  });

  it('enforces nothing where the runtime does not measure storage', async () => {
    const { instance, stops, warnings } = sampler([undefined]);
    expect(await instance.sampleAll()).toBe(1);
    expect([...stops, ...warnings]).toEqual([]);
  });
});
