import { AppError } from './errors.js';

/** Fargate's valid task sizes: CPU units and the memory (MiB) each allows. */
const fargateSizes: readonly { cpu: number; memory: readonly number[] }[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16384, 1024) },
  { cpu: 4096, memory: range(8192, 30720, 1024) },
  { cpu: 8192, memory: range(16384, 61440, 4096) },
  { cpu: 16384, memory: range(32768, 122880, 8192) },
];

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

export interface TaskSize {
  /** CPU units (1024 = one vCPU). */
  readonly cpu: number;
  /** Memory in MiB. */
  readonly memory: number;
}

export function isValidFargateSize(size: TaskSize): boolean {
  return fargateSizes.some((s) => s.cpu === size.cpu && s.memory.includes(size.memory));
}

export function cpuUnits(cores: number): number {
  return Math.ceil(cores * 1024);
}

/**
 * The smallest valid Fargate task size that covers the requested CPU (units) and memory (MiB):
 * the fewest CPU units first (they dominate the price), then the least memory.
 */
export function fargateTaskSize(request: TaskSize): TaskSize {
  for (const size of fargateSizes) {
    if (size.cpu < request.cpu) continue;
    const memory = size.memory.find((m) => m >= request.memory);
    if (memory !== undefined) return { cpu: size.cpu, memory };
  }
  throw new AppError(
    'bad_request',
    `No Fargate task size covers ${request.cpu} CPU units and ${request.memory} MiB.`,
  );
}
