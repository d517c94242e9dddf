import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { compareCursors } from '#core/log-cursor.js';
import type { LogEntry } from '#core/log-entry.js';
import { inRange, matchesFilter, type LogFilter, type LogRange } from '#core/log-filter.js';
import type { LogScope, LogStore } from '#core/log-ports.js';

const chunkBytes = 64 * 1024;
/** Files kept open for appending; past this many, the one opened first is closed. */
const maxOpenFiles = 256;

interface Writer {
  readonly file: Promise<FileHandle>;
  last: Promise<void>;
}

async function closeWriter(writer: Writer): Promise<void> {
  await writer.last;
  await (await writer.file.catch(() => undefined))?.close();
}

/**
 * The local stand-in for CloudWatch Logs: one append-only file of JSON lines per preview
 * (`<dir>/<previewId>.jsonl`), already parsed and redacted, in cursor order. Reads seek by binary
 * search and go through the file in 64 KB chunks, so memory stays flat however large it is.
 */
export class FileLogStore implements LogStore {
  /**
   * One open file per preview being written, and its last append: appends to a file happen one
   * after the other, in the order they were asked for, one write each.
   */
  private readonly writers = new Map<string, Writer>();

  constructor(private readonly directory: string) {}

  async record(previewId: string, entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    const writer = this.writerOf(previewId);
    const append = Promise.all([writer.file, writer.last]).then(async ([file]) => {
      await file.write(text);
    });
    writer.last = append.catch(() => undefined);
    await append;
  }

  /** Closes the files kept open for appending. */
  async close(): Promise<void> {
    const writers = [...this.writers.values()];
    this.writers.clear();
    await Promise.all(writers.map(closeWriter));
  }

  async *entries(scope: LogScope, filter: LogFilter, range: LogRange): AsyncGenerator<LogEntry> {
    const handle = await this.open(scope.previewId);
    if (!handle) return;
    try {
      const before = (entry: LogEntry) =>
        (range.after !== undefined && compareCursors(entry.cursor, range.after) <= 0) ||
        (range.start !== undefined && Date.parse(entry.timestamp) < range.start.getTime());
      const from = await seek(handle, before);
      for await (const entry of forward(handle, from)) {
        if (range.end && Date.parse(entry.timestamp) > range.end.getTime()) return;
        if (inRange(entry, range) && matchesFilter(entry, filter)) yield entry;
      }
    } finally {
      await handle.close();
    }
  }

  async tail(scope: LogScope, filter: LogFilter, count: number): Promise<LogEntry[]> {
    const handle = await this.open(scope.previewId);
    if (!handle || count <= 0) return [];
    const found: LogEntry[] = [];
    try {
      for await (const entry of backward(handle)) {
        if (!matchesFilter(entry, filter)) continue;
        found.push(entry);
        if (found.length === count) break;
      }
    } finally {
      await handle.close();
    }
    return found.reverse();
  }

  /** The preview's stored lines, newest first; memory stays flat however many are read. */
  async *newest(previewId: string): AsyncGenerator<LogEntry> {
    const handle = await this.open(previewId);
    if (!handle) return;
    try {
      yield* backward(handle);
    } finally {
      await handle.close();
    }
  }

  /** Deletes the logs of previews not written to for longer than the retention period. */
  async prune(retentionDays: number, now: Date): Promise<number> {
    const cutoff = now.getTime() - retentionDays * 86_400_000;
    const names = await readdir(this.directory).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names.filter((n) => n.endsWith('.jsonl'))) {
      const path = join(this.directory, name);
      if ((await stat(path)).mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  private writerOf(previewId: string): Writer {
    let writer = this.writers.get(previewId);
    if (!writer) {
      const [oldest] = this.writers.keys();
      if (oldest !== undefined && this.writers.size >= maxOpenFiles) {
        void closeWriter(this.writers.get(oldest) as Writer);
        this.writers.delete(oldest);
      }
      const path = this.file(previewId);
      const file = mkdir(this.directory, { recursive: true }).then(() => open(path, 'a'));
      // A file that could not be opened is tried again by the next append.
      file.catch(() => this.writers.delete(previewId));
      writer = { file, last: Promise.resolve() };
      this.writers.set(previewId, writer);
    }
    return writer;
  }

  private file(previewId: string): string {
    if (!/^[\w-]+$/.test(previewId)) throw new Error(`Not a preview id: ${previewId}`);
    return join(this.directory, `${previewId}.jsonl`);
  }

  private async open(previewId: string): Promise<FileHandle | undefined> {
    try {
      return await open(this.file(previewId), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** A stored line; a line cut short (the service stopped while writing it) is skipped. */
function parseLine(text: string): LogEntry | undefined {
  try {
    return JSON.parse(text) as LogEntry;
  } catch {
    return undefined;
  }
}

/** The first line starting at or after `position`, with where it starts; undefined at the end. */
async function lineAt(
  handle: FileHandle,
  position: number,
): Promise<{ start: number; entry: LogEntry } | undefined> {
  let start = position;
  if (position > 0) {
    // Skip the rest of the line `position` falls into.
    const { found } = await findNewline(handle, position - 1);
    if (found === undefined) return undefined;
    start = found + 1;
  }
  const { found, text } = await findNewline(handle, start);
  const entry = found === undefined ? undefined : parseLine(text);
  return entry && { start, entry };
}

async function findNewline(handle: FileHandle, from: number): Promise<{ found?: number; text: string }> {
  const parts: Buffer[] = [];
  const buffer = Buffer.alloc(4096);
  for (let position = from; ;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return { text: '' };
    const index = buffer.subarray(0, bytesRead).indexOf(10);
    if (index !== -1) {
      parts.push(Buffer.from(buffer.subarray(0, index)));
      return { found: position + index, text: Buffer.concat(parts).toString('utf8') };
    }
    parts.push(Buffer.from(buffer.subarray(0, bytesRead)));
    position += bytesRead;
  }
}

/**
 * Where to start reading: a line start such that every line before it is `before` the range.
 * Lines are in cursor (and time) order, so a binary search over byte offsets finds it.
 */
async function seek(handle: FileHandle, before: (entry: LogEntry) => boolean): Promise<number> {
  let low = 0;
  let high = (await handle.stat()).size;
  while (high - low > chunkBytes) {
    const middle = Math.floor((low + high) / 2);
    const line = await lineAt(handle, middle);
    if (!line || line.start >= high) {
      high = middle;
    } else if (before(line.entry)) {
      low = line.start + 1;
    } else {
      high = line.start;
    }
  }
  // `low` may sit inside a line: start at the next line, unless it is a line start already.
  if (low === 0) return 0;
  const line = await lineAt(handle, low);
  return line ? line.start : (await handle.stat()).size;
}

async function* forward(handle: FileHandle, from: number): AsyncGenerator<LogEntry> {
  const buffer = Buffer.alloc(chunkBytes);
  let rest = Buffer.alloc(0);
  for (let position = from; ;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    let data =
      rest.length > 0 ? Buffer.concat([rest, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
    for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10)) {
      const entry = parseLine(data.subarray(0, newline).toString('utf8'));
      if (entry) yield entry;
      data = data.subarray(newline + 1);
    }
    rest = Buffer.from(data);
  }
}

async function* backward(handle: FileHandle): AsyncGenerator<LogEntry> {
  const buffer = Buffer.alloc(chunkBytes);
  let rest = Buffer.alloc(0);
  // A line still being written (no newline yet) is not there yet.
  let complete = false;
  for (let position = (await handle.stat()).size; position > 0;) {
    const size = Math.min(chunkBytes, position);
    position -= size;
    await handle.read(buffer, 0, size, position);
    let data = Buffer.concat([buffer.subarray(0, size), rest]);
    if (!complete) {
      const last = data.lastIndexOf(10);
      if (last === -1) {
        rest = Buffer.from(data);
        continue;
      }
      data = data.subarray(0, last + 1);
      complete = true;
    }
    for (let newline = data.lastIndexOf(10, -2); newline !== -1; newline = data.lastIndexOf(10, -2)) {
      const entry = parseLine(
        data
          .subarray(newline + 1)
          .toString('utf8')
          .trim(),
      );
      if (entry) yield entry;
      data = data.subarray(0, newline + 1);
    }
    rest = Buffer.from(data);
  }
  const first = complete ? parseLine(rest.toString('utf8').trim()) : undefined;
  if (first) yield first;
}
