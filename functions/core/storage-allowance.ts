/** How full a preview's storage is, against its tier's allowance (seed: `storage` per tier, in GB). */

/** From this share of the allowance on, the user is warned on the live stream. */
export const storageWarningShare = 0.9;
const bytesPerGb = 1024 ** 3;

/** A preview's storage as measured at `at`, against its tier's allowance. */
export interface StorageUsage {
  readonly at: string;
  readonly usedBytes: number;
  readonly storageGb: number;
  readonly percent: number;
}

export type StorageVerdict =
  | { readonly state: 'within' }
  | { readonly state: 'warning'; readonly percent: number }
  | { readonly state: 'exceeded'; readonly percent: number };

export function allowanceBytes(storageGb: number): number {
  return Math.round(storageGb * bytesPerGb);
}

/** Within the allowance, past the warning share of it, or at or past all of it. */
export function storageVerdict(usedBytes: number, storageGb: number): StorageVerdict {
  const allowed = allowanceBytes(storageGb);
  const percent = Math.round((usedBytes / allowed) * 1000) / 10;
  if (usedBytes >= allowed) return { state: 'exceeded', percent };
  if (usedBytes >= allowed * storageWarningShare) return { state: 'warning', percent };
  return { state: 'within' };
}

/** `1.5GB`, `12.3MB`, `512KB`: what a person reads in a message or in `status`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GB', bytesPerGb],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10}${unit}`;
  }
  return `${bytes}B`;
}
