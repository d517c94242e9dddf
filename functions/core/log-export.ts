import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { LogEntry } from './log-entry.js';

export type ExportFormat = 'json' | 'csv' | 'gzip';

export interface ExportFile {
  readonly contentType: string;
  readonly filename: string;
}

export function exportFile(generationId: string, format: ExportFormat): ExportFile {
  switch (format) {
    case 'json':
      return { contentType: 'application/json', filename: `${generationId}-logs.json` };
    case 'csv':
      return { contentType: 'text/csv; charset=utf-8', filename: `${generationId}-logs.csv` };
    case 'gzip':
      return { contentType: 'application/gzip', filename: `${generationId}-logs.json.gz` };
  }
}

const chunkBytes = 64 * 1024;
const csvColumns = ['timestamp', 'level', 'source', 'message', 'metadata', 'cursor'] as const;

/** What spreadsheets read as the start of a formula (`=HYPERLINK(…)`, `+1`, `@SUM`, tab, CR). */
const formulaStart = /^[=+\-@\t\r]/;

/** A CSV cell; one a spreadsheet would evaluate as a formula is prefixed with `'` to stay text. */
function csvField(raw: string): string {
  const value = formulaStart.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvRow(entry: LogEntry): string {
  return csvColumns
    .map((column) => csvField(column === 'metadata' ? JSON.stringify(entry.metadata) : entry[column]))
    .join(',');
}

/** Text pieces gathered into chunks of about 64 KB: few writes, memory bounded. */
async function* chunked(pieces: AsyncIterable<string>): AsyncGenerator<Buffer> {
  let pending: string[] = [];
  let size = 0;
  for await (const piece of pieces) {
    pending.push(piece);
    size += piece.length;
    if (size >= chunkBytes) {
      yield Buffer.from(pending.join(''));
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield Buffer.from(pending.join(''));
}

async function* jsonArray(entries: AsyncIterable<LogEntry>): AsyncGenerator<string> {
  let first = true;
  yield '[';
  for await (const entry of entries) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(entry)}`;
    first = false;
  }
  yield '\n]\n';
}

async function* csvLines(entries: AsyncIterable<LogEntry>): AsyncGenerator<string> {
  yield `${csvColumns.join(',')}\r\n`;
  for await (const entry of entries) yield `${csvRow(entry)}\r\n`;
}

async function* gzipped(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gzip = createGzip();
  const piping = pipeline(Readable.from(chunks), gzip);
  // A failure of the source destroys the gzip stream, which ends the loop below with it.
  piping.catch(() => undefined);
  for await (const chunk of gzip) yield chunk as Buffer;
  await piping;
}

/** The export as a stream of chunks: a JSON array, CSV (RFC 4180), or the JSON array gzipped. */
export function exportChunks(entries: AsyncIterable<LogEntry>, format: ExportFormat): AsyncIterable<Buffer> {
  switch (format) {
    case 'json':
      return chunked(jsonArray(entries));
    case 'csv':
      return chunked(csvLines(entries));
    case 'gzip':
      return gzipped(chunked(jsonArray(entries)));
  }
}
