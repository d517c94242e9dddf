import type { LogLevel, LogLine } from '@preview-service/client';

export interface LogFilter {
  /** This level and above. */
  readonly level: LogLevel;
  /** Case-insensitive text the message must contain; empty matches every line. */
  readonly search: string;
}

const levelRank: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };

export const logLevels = Object.keys(levelRank) as LogLevel[];

function matcher(filter: LogFilter): (line: LogLine) => boolean {
  const minimum = levelRank[filter.level];
  const search = filter.search.trim().toLowerCase();
  return (line) =>
    levelRank[line.level] >= minimum && (search === '' || line.message.toLowerCase().includes(search));
}

/**
 * The last `capacity` lines received, and those of them the filter keeps. Lines are added in
 * batches (one per animation frame); the filtered view is extended with each batch rather than
 * recomputed, and recomputed only when the filter changes.
 */
export class LogBuffer {
  private lines: LogLine[] = [];
  private view: LogLine[] = [];
  private keep: (line: LogLine) => boolean;
  /** Lines dropped from the front to stay within capacity. */
  dropped = 0;

  constructor(
    readonly capacity: number,
    filter: LogFilter,
  ) {
    this.keep = matcher(filter);
  }

  get size(): number {
    return this.lines.length;
  }

  /** The lines the filter keeps, oldest first. */
  get visible(): readonly LogLine[] {
    return this.view;
  }

  append(batch: readonly LogLine[]): void {
    const incoming = batch.length > this.capacity ? batch.slice(batch.length - this.capacity) : batch;
    this.dropped += batch.length - incoming.length;
    for (const line of incoming) {
      this.lines.push(line);
      if (this.keep(line)) this.view.push(line);
    }
    const excess = this.lines.length - this.capacity;
    if (excess <= 0) return;
    this.dropped += excess;
    // The view is `lines` filtered: the evicted lines it kept are its first ones.
    const evicted = this.lines.splice(0, excess);
    this.view.splice(0, evicted.filter(this.keep).length);
  }

  setFilter(filter: LogFilter): void {
    this.keep = matcher(filter);
    this.view = this.lines.filter(this.keep);
  }

  clear(): void {
    this.lines = [];
    this.view = [];
    this.dropped = 0;
  }
}
