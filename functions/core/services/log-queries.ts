import type { z } from 'zod';
import type { logsExportQuerySchema, logsQuerySchema } from '../api-schemas.js';
import { AppError, invalidFields } from '../errors.js';
import { cursorToken, tokenCursor } from '../log-cursor.js';
import type { LogEntry } from '../log-entry.js';
import { exportChunks, exportFile, type ExportFile } from '../log-export.js';
import { logFilter, type LogRange } from '../log-filter.js';
import type { ExportStore, LogStore } from '../log-ports.js';
import type { Identity } from '../preview.js';
import type { PreviewService } from './preview-service.js';

/** What an export answers: the file itself when it is small, else where to download it. */
export type ExportResult =
  | { readonly kind: 'inline'; readonly file: ExportFile; readonly body: Buffer }
  | {
      readonly kind: 'stored';
      readonly file: ExportFile;
      readonly url: string;
      readonly expiresAt: Date;
      readonly bytes: number;
    };

/**
 * A Lambda proxy response carries at most 6 MB, base64 included (binary files): an export up to
 * this size is answered inline, a larger one is stored and answered with a download URL.
 */
const inlineExportBytes = 4 * 1024 * 1024;

function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const cursor = tokenCursor(token);
  if (cursor) return cursor;
  throw invalidFields([{ field: 'query.nextToken', message: 'is not a token this API returned' }]);
}

function rangeOf(query: { start?: string; end?: string }, after?: string): LogRange {
  const start = query.start ? new Date(query.start) : undefined;
  const end = query.end ? new Date(query.end) : undefined;
  if (start && end && start > end) {
    throw invalidFields([{ field: 'query.end', message: 'must not be before start' }]);
  }
  return { ...(start ? { start } : {}), ...(end ? { end } : {}), ...(after ? { after } : {}) };
}

/** Queries and exports of a preview's logs, which outlive it for the retention period. */
export class LogQueries {
  constructor(
    private readonly deps: {
      readonly service: PreviewService;
      readonly logs: LogStore;
      /** Absent where large exports cannot be offered. */
      readonly exports: ExportStore | undefined;
      readonly inlineExportBytes?: number;
    },
  ) {}

  async query(identity: Identity, generationId: string, query: z.infer<typeof logsQuerySchema>) {
    const record = await this.deps.service.ownedPreview(identity, generationId);
    const range = rangeOf(query, decodeToken(query.nextToken));
    const logs: LogEntry[] = [];
    let more = false;
    for await (const entry of this.deps.logs.entries(record, logFilter(query), range)) {
      if (logs.length === query.limit) {
        more = true;
        break;
      }
      logs.push(entry);
    }
    const last = logs.at(-1);
    return {
      previewInstanceId: record.previewId,
      logs,
      ...(more && last ? { nextToken: cursorToken(last.cursor) } : {}),
    };
  }

  /** Streams the export; what does not fit inline goes to the export store as it is produced. */
  async export(
    identity: Identity,
    generationId: string,
    query: z.infer<typeof logsExportQuerySchema>,
  ): Promise<ExportResult> {
    const record = await this.deps.service.ownedPreview(identity, generationId);
    const file = exportFile(generationId, query.format);
    const entries = this.deps.logs.entries(record, logFilter(query), rangeOf(query));
    const chunks = exportChunks(entries, query.format)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let size = 0;
    const limit = this.deps.inlineExportBytes ?? inlineExportBytes;
    for (let next = await chunks.next(); ; next = await chunks.next()) {
      if (next.done) return { kind: 'inline', file, body: Buffer.concat(head) };
      head.push(next.value);
      size += next.value.length;
      if (size > limit) break;
    }
    if (!this.deps.exports) {
      await chunks.return?.();
      throw new AppError(
        'not_implemented',
        `This export is larger than ${Math.round(limit / 1024 / 1024)} MB, which needs a download link ` +
          '(S3 presigned URLs); that is not available in this deployment yet. Narrow it with start, end, level, source or search.',
      );
    }
    const saved = await this.deps.exports.save(file, rest(head, chunks), record.previewId);
    return { kind: 'stored', file, ...saved };
  }
}

async function* rest(head: readonly Buffer[], tail: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (let next = await tail.next(); !next.done; next = await tail.next()) yield next.value;
}
