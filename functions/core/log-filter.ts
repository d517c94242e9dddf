import { compareCursors } from './log-cursor.js';
import { levelRank, type LogEntry, type LogLevel, type LogSource } from './log-entry.js';

/** Which lines a client wants: a level and above, some sources, a text (case-insensitive). */
export interface LogFilter {
  readonly level: LogLevel;
  readonly sources?: readonly LogSource[];
  readonly search?: string;
}

/** Which part of the log: a time range, and/or everything after a cursor. */
export interface LogRange {
  readonly start?: Date;
  readonly end?: Date;
  readonly after?: string;
}

export function logFilter(input: {
  level?: LogLevel;
  source?: readonly LogSource[];
  search?: string;
}): LogFilter {
  return {
    level: input.level ?? 'DEBUG',
    ...(input.source && input.source.length > 0 ? { sources: [...new Set(input.source)] } : {}),
    ...(input.search ? { search: input.search } : {}),
  };
}

export function matchesFilter(entry: LogEntry, filter: LogFilter): boolean {
  if (levelRank(entry.level) < levelRank(filter.level)) return false;
  if (filter.sources && !filter.sources.includes(entry.source)) return false;
  if (!filter.search) return true;
  const needle = filter.search.toLowerCase();
  return (
    entry.message.toLowerCase().includes(needle) ||
    (Object.keys(entry.metadata).length > 0 && JSON.stringify(entry.metadata).toLowerCase().includes(needle))
  );
}

export function inRange(entry: LogEntry, range: LogRange): boolean {
  const time = Date.parse(entry.timestamp);
  if (range.start && time < range.start.getTime()) return false;
  if (range.end && time > range.end.getTime()) return false;
  return range.after === undefined || compareCursors(entry.cursor, range.after) > 0;
}
