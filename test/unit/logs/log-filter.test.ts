import { describe, expect, it } from 'vitest';
import { compareCursors, cursorTime, isLogCursor, logCursor } from '#core/log-cursor.js';
import type { LogEntry } from '#core/log-entry.js';
import { inRange, logFilter, matchesFilter } from '#core/log-filter.js';

const line = (changes: Partial<LogEntry> = {}): LogEntry => ({
  timestamp: '2025-10-20T12:00:00.000Z',
  level: 'INFO',
  source: 'request',
  message: 'GET /api/users 200',
  metadata: { userId: 'user_123' },
  cursor: logCursor(Date.parse('2025-10-20T12:00:00.000Z'), '5'),
  ...changes,
});

describe('log cursors', () => {
  it('order lines by time, then by event id (numerically, like CloudWatch ids)', () => {
    expect(compareCursors('1000-9', '1000-10')).toBeLessThan(0);
    expect(compareCursors('1001-1', '1000-99')).toBeGreaterThan(0);
    expect(compareCursors('1000-7', '1000-7')).toBe(0);
    const cloudWatchId = '34622316099697884706540976068822859012661220141643892546';
    expect(
      compareCursors(`1552518348220-${cloudWatchId}`, `1552518348220-${cloudWatchId.replace(/6$/, '7')}`),
    ).toBe(-1);
    expect(cursorTime('1552518348220-1').toISOString()).toBe('2019-03-13T23:05:48.220Z');
  });

  it('are recognised, and anything else is not one', () => {
    expect(isLogCursor(logCursor(1, '2'))).toBe(true);
    for (const text of ['', '1', '1-', 'a-1', '1-2-3', '1 -2']) expect(isLogCursor(text)).toBe(false);
  });
});

describe('log filters', () => {
  it('let a level and the levels above it through', () => {
    const warn = logFilter({ level: 'WARN' });
    expect(matchesFilter(line({ level: 'INFO' }), warn)).toBe(false);
    expect(matchesFilter(line({ level: 'WARN' }), warn)).toBe(true);
    expect(matchesFilter(line({ level: 'ERROR' }), warn)).toBe(true);
    expect(matchesFilter(line({ level: 'DEBUG' }), logFilter({}))).toBe(true);
  });

  it('keep only the named sources', () => {
    const filter = logFilter({ source: ['request', 'database', 'request'] });
    expect(filter.sources).toEqual(['request', 'database']);
    expect(matchesFilter(line({ source: 'database' }), filter)).toBe(true);
    expect(matchesFilter(line({ source: 'startup' }), filter)).toBe(false);
  });

  it('search the message and the metadata, case-insensitively', () => {
    expect(matchesFilter(line(), logFilter({ search: 'api/USERS' }))).toBe(true);
    expect(matchesFilter(line(), logFilter({ search: 'USER_123' }))).toBe(true);
    expect(matchesFilter(line(), logFilter({ search: 'todos' }))).toBe(false);
  });

  it('select a time range and what comes after a cursor', () => {
    const entry = line();
    expect(inRange(entry, { start: new Date('2025-10-20T12:00:00.000Z') })).toBe(true);
    expect(inRange(entry, { start: new Date('2025-10-20T12:00:00.001Z') })).toBe(false);
    expect(inRange(entry, { end: new Date('2025-10-20T11:59:59.999Z') })).toBe(false);
    expect(inRange(entry, { after: entry.cursor })).toBe(false);
    expect(inRange(entry, { after: logCursor(Date.parse(entry.timestamp), '4') })).toBe(true);
  });
});
