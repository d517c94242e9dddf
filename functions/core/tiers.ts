import { z } from 'zod';

export const tierNames = ['free', 'pro', 'enterprise'] as const;
export const tierNameSchema = z.enum(tierNames);
export type TierName = z.infer<typeof tierNameSchema>;

export const tierSchema = z
  .object({
    /** Hard memory limit of the app container, MB. */
    memory: z.number().int().min(128).max(30720),
    /** CPU cores for the app container. */
    cpu: z.number().min(0.25).max(16),
    /** Storage of the task's volumes (scratch `/tmp` and the database), GB; fractions allowed. */
    storageGb: z.number().positive().max(200),
    sessionMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    extensionMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    maxExtensions: z.number().int().min(0).max(100),
    maxConcurrentPreviews: z.number().int().min(1).max(1000),
    /** Automatic restarts after repeated health failures before the preview is failed. */
    maxRestarts: z.number().int().min(0).max(100),
  })
  .strict();

export type Tier = z.infer<typeof tierSchema>;
export type Tiers = Record<TierName, Tier>;

export const defaultTiers: Tiers = {
  free: {
    memory: 256,
    cpu: 0.5,
    storageGb: 1,
    sessionMinutes: 120,
    extensionMinutes: 30,
    maxExtensions: 3,
    maxConcurrentPreviews: 3,
    maxRestarts: 3,
  },
  pro: {
    memory: 1024,
    cpu: 2,
    storageGb: 5,
    sessionMinutes: 120,
    extensionMinutes: 30,
    maxExtensions: 5,
    maxConcurrentPreviews: 5,
    maxRestarts: 5,
  },
  enterprise: {
    memory: 2048,
    cpu: 4,
    storageGb: 10,
    sessionMinutes: 120,
    extensionMinutes: 30,
    maxExtensions: 10,
    maxConcurrentPreviews: 10,
    maxRestarts: 10,
  },
};

/** Variables that override a tier: JSON objects holding any subset of the tier's fields. */
export const tierVariables: Record<TierName, string> = {
  free: 'PREVIEW_RESOURCE_TIER_FREE',
  pro: 'PREVIEW_RESOURCE_TIER_PRO',
  enterprise: 'PREVIEW_RESOURCE_TIER_ENTERPRISE',
};

export function tierRank(name: TierName): number {
  return tierNames.indexOf(name);
}

export function formatMemory(mb: number): string {
  return mb % 1024 === 0 ? `${mb / 1024}GB` : `${mb}MB`;
}

export function formatCpu(cores: number): string {
  return `${cores} ${cores === 1 ? 'core' : 'cores'}`;
}
