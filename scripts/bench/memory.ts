import { readFile } from 'node:fs/promises';

/** Host memory in use, as the kernel sees it: MemTotal − MemAvailable, in bytes. */
export async function memoryUsedBytes(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return (kib('MemTotal') - kib('MemAvailable')) * 1024;
}

/** Samples memory in use on a timer and keeps the highest figure. */
export class PeakMemory {
  peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs: number): void {
    const sample = () =>
      void memoryUsedBytes().then((used) => {
        this.peak = Math.max(this.peak, used);
      });
    sample();
    this.timer = setInterval(sample, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
