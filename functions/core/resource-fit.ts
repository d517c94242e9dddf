import type { AppliedLimits, ResourceAllocation } from './preview.js';
import type { RuntimeCapacity } from './task-runner.js';
import { formatCpu, formatMemory } from './tiers.js';

/**
 * A tier's limits fitted to the engine that runs the task: a local engine smaller than the tier
 * asks for runs the app with all it has (an engine refuses a container more CPUs than it has).
 * Without a capacity (Fargate, which sizes each task itself) the tier's limits apply unchanged.
 */
export function fitToCapacity(
  requested: Pick<ResourceAllocation, 'memoryMb' | 'cpu'>,
  capacity: RuntimeCapacity | undefined,
): AppliedLimits {
  if (!capacity) return { memoryMb: requested.memoryMb, cpu: requested.cpu };
  const cpu = Math.min(requested.cpu, capacity.cpus);
  const memoryMb = Math.min(requested.memoryMb, capacity.memoryMb);
  const clamped = [
    ...(cpu < requested.cpu
      ? [`${formatCpu(capacity.cpus)} (the tier asks for ${formatCpu(requested.cpu)})`]
      : []),
    ...(memoryMb < requested.memoryMb
      ? [
          `${formatMemory(capacity.memoryMb)} of memory (the tier asks for ${formatMemory(requested.memoryMb)})`,
        ]
      : []),
  ];
  if (clamped.length === 0) return { memoryMb, cpu };
  return {
    memoryMb,
    cpu,
    reason: `Fitted to the engine running the preview, which has ${clamped.join(' and ')}.`,
  };
}

/** The limits a preview's app runs with: the fitted ones where the engine is smaller, else the tier's. */
export function appliedLimits(record: {
  readonly resources: ResourceAllocation;
  readonly appliedLimits?: AppliedLimits;
}): AppliedLimits {
  return record.appliedLimits ?? { memoryMb: record.resources.memoryMb, cpu: record.resources.cpu };
}
