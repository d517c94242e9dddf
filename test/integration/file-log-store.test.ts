import { appendFile, mkdtemp, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileLogStore } from '#adapters/local/file-log-store.js';
import { LocalExportStore } from '#adapters/local/local-export-store.js';
import { compareCursors, logCursor } from '#core/log-cursor.js';
import type { LogEntry, LogLevel } from '#core/log-entry.js';
import { inRange, logFilter, matchesFilter, type LogRange } from '#core/log-filter.js';
import { LogQueries } from '#core/services/log-queries.js';
import type { PreviewService } from '#core/services/preview-service.js';
import type { PreviewRecord } from '#core/preview.js';

const previewId = 'preview_0mwwx0c389de91667e5704613';
const scope = { previewId };
const start = Date.parse('2025-10-20T12:00:00.000Z');
const levels: LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
let directory: string;
/** Every store a test opened: their files are closed at the end. */
const stores: FileLogStore[] = [];
const openStore = (path: string) => {
  const store = new FileLogStore(path);
  stores.push(store);
  return store;
};

/** Line n: every 10 ms, levels in turn, two lines sharing each millisecond now and then. */
function line(n: number, message = `GET /items/${n} 200`): LogEntry {
  const time = start + Math.floor(n / 2) * 10;
  return {
    timestamp: new Date(time).toISOString(),
    level: levels[n % 4] as LogLevel,
    source: n % 3 === 0 ? 'database' : 'request',
    message,
    metadata: { n },
    cursor: logCursor(time, String(n + 1)),
  };
}

async function collect(entries: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const all: LogEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'file-log-store-'));
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await rm(directory, { recursive: true, force: true });
});

describe('the local log store', () => {
  const store = () => openStore(join(directory, 'logs'));
  const lines = Array.from({ length: 20_000 }, (_, n) => line(n));

  beforeAll(async () => {
    const logs = store();
    // Concurrent appends keep the order they were asked for.
    await Promise.all(
      Array.from({ length: 20 }, (_, batch) =>
        logs.record(previewId, lines.slice(batch * 1000, batch * 1000 + 1000)),
      ),
    );
  });

  it('keeps every line in order, one JSON line each', async () => {
    const text = await readFile(join(directory, 'logs', `${previewId}.jsonl`), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(lines.length);
    expect(await collect(store().entries(scope, logFilter({}), {}))).toEqual(lines);
  });

  it('seeks to a cursor or a start time, and stops at the end time, exactly as a full scan would', async () => {
    const ranges: LogRange[] = [
      { after: lines[0]!.cursor },
      { after: lines[12_345]!.cursor },
      { after: lines[19_999]!.cursor },
      { after: logCursor(start - 1, '1') },
      { start: new Date(start + 50_000) },
      { start: new Date(start + 50_000), end: new Date(start + 60_000) },
      { after: lines[7_000]!.cursor, end: new Date(start + 40_000) },
    ];
    for (const range of ranges) {
      const expected = lines.filter((entry) => inRange(entry, range));
      expect(await collect(store().entries(scope, logFilter({}), range)), JSON.stringify(range)).toEqual(
        expected,
      );
    }
  });

  it('filters by level, source and text', async () => {
    const filter = logFilter({ level: 'WARN', source: ['database'], search: '/ITEMS/1' });
    const found = await collect(store().entries(scope, filter, {}));
    expect(found.length).toBeGreaterThan(0);
    expect(found).toEqual(lines.filter((entry) => matchesFilter(entry, filter)));
  });

  it('reads the last lines backwards, filtered, oldest first', async () => {
    expect(await store().tail(scope, logFilter({}), 3)).toEqual(lines.slice(-3));
    const errors = lines.filter((l) => l.level === 'ERROR');
    expect(await store().tail(scope, logFilter({ level: 'ERROR' }), 500)).toEqual(errors.slice(-500));
    expect(await store().tail(scope, logFilter({}), 50_000)).toEqual(lines);
    expect(await store().tail({ previewId: 'preview_none' }, logFilter({}), 5)).toEqual([]);
  });

  it('skips a line cut short, and finds nothing for a preview without logs', async () => {
    const id = 'preview_cut';
    await store().record(id, [line(1), line(2)]);
    await appendFile(join(directory, 'logs', `${id}.jsonl`), '{"timestamp":"2025-');
    expect(await collect(store().entries({ previewId: id }, logFilter({}), {}))).toEqual([line(1), line(2)]);
    expect(await store().tail({ previewId: id }, logFilter({}), 5)).toEqual([line(1), line(2)]);
    expect(await collect(store().entries({ previewId: 'preview_none' }, logFilter({}), {}))).toEqual([]);
  });

  it('deletes logs older than the retention period', async () => {
    const logs = store();
    await logs.record('preview_old', [line(1)]);
    const old = new Date(Date.now() - 8 * 86_400_000);
    await utimes(join(directory, 'logs', 'preview_old.jsonl'), old, old);
    expect(await logs.prune(7, new Date())).toBe(1);
    await expect(stat(join(directory, 'logs', 'preview_old.jsonl'))).rejects.toThrow();
    await expect(stat(join(directory, 'logs', `${previewId}.jsonl`))).resolves.toBeDefined();
  });
});

describe('exporting a large log', () => {
  const bigId = 'preview_big';
  const targetBytes = 100 * 1024 * 1024;
  let lineCount = 0;

  beforeAll(async () => {
    const logs = openStore(join(directory, 'big'));
    const padding = 'x'.repeat(120);
    let written = 0;
    while (written < targetBytes) {
      const batch = Array.from({ length: 5000 }, (_, i) =>
        line(lineCount + i, `GET /items/${lineCount + i} ${padding}`),
      );
      await logs.record(bigId, batch);
      lineCount += batch.length;
      written = (await stat(join(directory, 'big', `${bigId}.jsonl`))).size;
    }
  }, 120_000);

  it('streams 100 MB to the download store with flat memory', async () => {
    const service = { ownedPreview: async () => ({ previewId: bigId }) as PreviewRecord };
    const exportsDir = join(directory, 'exports');
    const queries = new LogQueries({
      service: service as unknown as PreviewService,
      logs: openStore(join(directory, 'big')),
      exports: new LocalExportStore(exportsDir, () => 'http://127.0.0.1:1', { now: () => new Date() }),
    });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    let result;
    try {
      result = await queries.export({ userId: 'u', tier: 'free' }, 'big', { format: 'json' });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result.kind).toBe('stored');
    if (result.kind !== 'stored') return;
    expect(result.bytes).toBeGreaterThan(90 * 1024 * 1024);
    expect(result.url).toMatch(/^http:\/\/127\.0\.0\.1:1\/local-exports\/[0-9a-f]{32}-big-logs\.json$/);
    const growthMb = (peak - baseline) / 1024 / 1024;
    console.log(
      `export of ${lineCount} lines (${Math.round(result.bytes / 1024 / 1024)} MB): RSS grew ${growthMb.toFixed(1)} MB`,
    );
    expect(growthMb).toBeLessThan(64);
    const name = result.url.split('/').pop() as string;
    const stored = await new LocalExportStore(exportsDir, () => '', { now: () => new Date() }).open(name);
    expect(stored?.bytes).toBe(result.bytes);
    stored?.stream.destroy();
  }, 120_000);

  it('answers a small export inline, as the whole file', async () => {
    const service = { ownedPreview: async () => ({ previewId }) as PreviewRecord };
    const queries = new LogQueries({
      service: service as unknown as PreviewService,
      logs: openStore(join(directory, 'logs')),
      exports: undefined,
    });
    const result = await queries.export({ userId: 'u', tier: 'free' }, 'g1', {
      format: 'gzip',
      level: 'ERROR',
    });
    expect(result.kind).toBe('inline');
    if (result.kind !== 'inline') return;
    const exported = JSON.parse(gunzipSync(result.body).toString('utf8')) as LogEntry[];
    expect(exported).toHaveLength(5000);
    expect(exported.every((e) => e.level === 'ERROR')).toBe(true);
    expect(exported.map((e) => e.cursor).sort(compareCursors)).toEqual(exported.map((e) => e.cursor));
  });

  it('refuses an export too large to answer inline where there is no download store (501)', async () => {
    const service = { ownedPreview: async () => ({ previewId: bigId }) as PreviewRecord };
    const queries = new LogQueries({
      service: service as unknown as PreviewService,
      logs: openStore(join(directory, 'big')),
      exports: undefined,
    });
    await expect(
      queries.export({ userId: 'u', tier: 'free' }, 'big', { format: 'json' }),
    ).rejects.toMatchObject({
      code: 'not_implemented',
      message: expect.stringMatching(/larger than 4 MB.*presigned/),
    });
  });
});
