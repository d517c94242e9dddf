import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuUnits, fargateTaskSize, isValidFargateSize } from '#core/fargate.js';

const validSizes: { cpu: number; memory: number }[] = [];
for (let cpu = 256; cpu <= 16384; cpu *= 2) {
  for (let memory = 512; memory <= 122880; memory += 512) {
    if (isValidFargateSize({ cpu, memory })) validSizes.push({ cpu, memory });
  }
}

describe('Fargate task size', () => {
  it('knows the documented sizes', () => {
    expect(isValidFargateSize({ cpu: 256, memory: 512 })).toBe(true);
    expect(isValidFargateSize({ cpu: 256, memory: 4096 })).toBe(false);
    expect(isValidFargateSize({ cpu: 512, memory: 512 })).toBe(false);
    expect(isValidFargateSize({ cpu: 4096, memory: 30720 })).toBe(true);
    expect(isValidFargateSize({ cpu: 8192, memory: 20480 })).toBe(true);
    expect(isValidFargateSize({ cpu: 8192, memory: 18432 })).toBe(false);
  });

  it('maps the seed tiers to the expected sizes', () => {
    expect(fargateTaskSize({ cpu: cpuUnits(0.5), memory: 256 })).toEqual({ cpu: 512, memory: 1024 });
    expect(fargateTaskSize({ cpu: cpuUnits(2), memory: 1024 })).toEqual({ cpu: 2048, memory: 4096 });
    expect(fargateTaskSize({ cpu: cpuUnits(4), memory: 2048 })).toEqual({ cpu: 4096, memory: 8192 });
    expect(fargateTaskSize({ cpu: cpuUnits(0.25), memory: 600 })).toEqual({ cpu: 256, memory: 1024 });
  });

  it('picks a valid size that covers the request, and no smaller valid size does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16384 }), fc.integer({ min: 1, max: 122880 }), (cpu, memory) => {
        const size = fargateTaskSize({ cpu, memory });
        expect(isValidFargateSize(size)).toBe(true);
        expect(size.cpu).toBeGreaterThanOrEqual(cpu);
        expect(size.memory).toBeGreaterThanOrEqual(memory);
        const smaller = validSizes.filter(
          (s) =>
            s.cpu >= cpu &&
            s.memory >= memory &&
            (s.cpu < size.cpu || (s.cpu === size.cpu && s.memory < size.memory)),
        );
        expect(smaller).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a request no Fargate size covers', () => {
    expect(() => fargateTaskSize({ cpu: 16385, memory: 1024 })).toThrow(/No Fargate task size/);
    expect(() => fargateTaskSize({ cpu: 1024, memory: 122881 })).toThrow(/No Fargate task size/);
  });
});
