import { describe, expect, it } from 'vitest';
import { appliedLimits, fitToCapacity } from '#core/resource-fit.js';

describe('fitToCapacity', () => {
  it('clamps CPUs and memory to an engine smaller than the tier, and says why', () => {
    expect(fitToCapacity({ cpu: 4, memoryMb: 2048 }, { cpus: 2, memoryMb: 24_000 })).toEqual({
      cpu: 2,
      memoryMb: 2048,
      reason: 'Fitted to the engine running the preview, which has 2 cores (the tier asks for 4 cores).',
    });
    expect(fitToCapacity({ cpu: 4, memoryMb: 2048 }, { cpus: 1, memoryMb: 1024 })).toEqual({
      cpu: 1,
      memoryMb: 1024,
      reason:
        'Fitted to the engine running the preview, which has 1 core (the tier asks for 4 cores) and 1GB of memory (the tier asks for 2GB).',
    });
  });

  it('keeps the tier’s limits where the engine has enough, and where tasks are sized by Fargate', () => {
    expect(fitToCapacity({ cpu: 0.5, memoryMb: 256 }, { cpus: 2, memoryMb: 24_000 })).toEqual({
      cpu: 0.5,
      memoryMb: 256,
    });
    expect(fitToCapacity({ cpu: 4, memoryMb: 2048 }, undefined)).toEqual({ cpu: 4, memoryMb: 2048 });
  });

  it('reads a preview’s applied limits: the fitted ones, else the tier’s', () => {
    const resources = { cpu: 4, memoryMb: 2048, storageGb: 10 };
    expect(appliedLimits({ resources })).toEqual({ cpu: 4, memoryMb: 2048 });
    expect(
      appliedLimits({ resources, appliedLimits: { cpu: 2, memoryMb: 2048, reason: 'r' } }),
    ).toMatchObject({ cpu: 2 });
  });
});
