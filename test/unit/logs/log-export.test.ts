import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '#core/log-entry.js';
import { exportChunks, exportFile, type ExportFormat } from '#core/log-export.js';

const entries: LogEntry[] = [
  {
    timestamp: '2025-10-20T12:20:15.000Z',
    level: 'INFO',
    source: 'request',
    message: 'GET /a 200',
    metadata: { statusCode: 200 },
    cursor: '1-1',
  },
  {
    timestamp: '2025-10-20T12:20:16.000Z',
    level: 'ERROR',
    source: 'error',
    message: 'said "no", then, a\nnew line',
    metadata: {},
    cursor: '1-2',
  },
];

async function* stream(items: readonly LogEntry[]) {
  yield* items;
}

async function exported(format: ExportFormat, items = entries): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of exportChunks(stream(items), format)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('log exports', () => {
  it('as JSON: an array of the lines', async () => {
    expect(JSON.parse((await exported('json')).toString('utf8'))).toEqual(entries);
    expect(JSON.parse((await exported('json', [])).toString('utf8'))).toEqual([]);
  });

  it('as CSV: a header, then one quoted row per line (RFC 4180)', async () => {
    expect((await exported('csv')).toString('utf8')).toBe(
      'timestamp,level,source,message,metadata,cursor\r\n' +
        '2025-10-20T12:20:15.000Z,INFO,request,GET /a 200,"{""statusCode"":200}",1-1\r\n' +
        '2025-10-20T12:20:16.000Z,ERROR,error,"said ""no"", then, a\nnew line",{},1-2\r\n',
    );
  });

  it('as CSV: cells a spreadsheet would run as formulas stay text', async () => {
    const formulas = ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'];
    const rows = (
      await exported(
        'csv',
        formulas.map((message, index) => ({ ...entries[0]!, message, cursor: `1-${index}` })),
      )
    )
      .toString('utf8')
      .split('\r\n')
      .slice(1, -1);
    expect(rows.map((row) => row.split(',')[3])).toEqual([
      `"'=HYPERLINK(""http://x"")"`,
      "'+1+1",
      "'-2+3",
      "'@SUM(A1)",
      "'\tcmd",
      `"'\rcmd"`,
    ]);
  });

  it('as gzip: the JSON array, compressed', async () => {
    expect(JSON.parse(gunzipSync(await exported('gzip')).toString('utf8'))).toEqual(entries);
  });

  it('are named after the generation, with the type of their format', () => {
    expect(exportFile('g1', 'json')).toEqual({ contentType: 'application/json', filename: 'g1-logs.json' });
    expect(exportFile('g1', 'csv').filename).toBe('g1-logs.csv');
    expect(exportFile('g1', 'gzip')).toEqual({
      contentType: 'application/gzip',
      filename: 'g1-logs.json.gz',
    });
  });
});
