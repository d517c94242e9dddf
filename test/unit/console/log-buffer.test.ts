import type { LogLevel, LogLine } from '@preview-service/client';
import { describe, expect, it } from 'vitest';
import { LogBuffer } from '../../../console/src/log-buffer.js';

let sequence = 0;
const line = (level: LogLevel, message: string): LogLine => {
  sequence += 1;
  return {
    timestamp: '2026-12-03T08:00:00.000Z',
    level,
    source: 'request',
    message,
    metadata: {},
    cursor: `1764748800000-${sequence}`,
  };
};
const messages = (lines: readonly LogLine[]) => lines.map((l) => l.message);

describe('the console log buffer', () => {
  it('keeps the lines at and above the level that contain the search, case-insensitively', () => {
    const buffer = new LogBuffer(100, { level: 'WARN', search: 'db' });
    buffer.append([
      line('INFO', 'DB ok'),
      line('WARN', 'DB slow'),
      line('ERROR', 'db down'),
      line('ERROR', 'disk'),
    ]);
    expect(messages(buffer.visible)).toEqual(['DB slow', 'db down']);
    buffer.setFilter({ level: 'DEBUG', search: '' });
    expect(messages(buffer.visible)).toEqual(['DB ok', 'DB slow', 'db down', 'disk']);
  });

  it('drops the oldest lines beyond its capacity, from the filtered view too', () => {
    const buffer = new LogBuffer(3, { level: 'WARN', search: '' });
    buffer.append([line('WARN', 'w1'), line('INFO', 'i1'), line('WARN', 'w2')]);
    buffer.append([line('INFO', 'i2'), line('WARN', 'w3')]);
    expect(buffer.size).toBe(3);
    expect(buffer.dropped).toBe(2);
    expect(messages(buffer.visible)).toEqual(['w2', 'w3']);
    buffer.setFilter({ level: 'DEBUG', search: '' });
    expect(messages(buffer.visible)).toEqual(['w2', 'i2', 'w3']);
  });

  it('keeps only the newest lines of a batch larger than its capacity', () => {
    const buffer = new LogBuffer(2, { level: 'DEBUG', search: '' });
    buffer.append([line('INFO', 'a'), line('INFO', 'b'), line('INFO', 'c')]);
    expect(messages(buffer.visible)).toEqual(['b', 'c']);
    expect(buffer.dropped).toBe(1);
    buffer.clear();
    expect([buffer.size, buffer.visible.length, buffer.dropped]).toEqual([0, 0, 0]);
  });
});
