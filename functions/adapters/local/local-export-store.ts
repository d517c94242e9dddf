import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '#core/clock.js';
import type { ExportFile } from '#core/log-export.js';
import type { ExportStore } from '#core/log-ports.js';

const validForMs = 3600_000;

export interface StoredExport {
  readonly stream: Readable;
  readonly bytes: number;
  readonly filename: string;
}

/**
 * The local stand-in for S3 and its presigned URLs: a large export is written to a file with an
 * unguessable name, which the local gateway serves for an hour at `/local-exports/<name>`.
 */
export class LocalExportStore implements ExportStore {
  constructor(
    private readonly directory: string,
    private readonly baseUrl: () => string,
    private readonly clock: Clock,
  ) {}

  async save(file: ExportFile, chunks: AsyncIterable<Buffer>) {
    await mkdir(this.directory, { recursive: true });
    await this.removeExpired();
    const name = `${randomBytes(16).toString('hex')}-${file.filename}`;
    const path = join(this.directory, name);
    try {
      await pipeline(Readable.from(chunks), createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return {
      url: `${this.baseUrl()}/local-exports/${name}`,
      expiresAt: new Date(this.clock.now().getTime() + validForMs),
      bytes: (await stat(path)).size,
    };
  }

  /** The export a download URL names, while it is valid. */
  async open(name: string): Promise<StoredExport | undefined> {
    const match = /^[0-9a-f]{32}-(.+)$/.exec(name);
    if (!match || name.includes('/')) return undefined;
    const path = join(this.directory, name);
    const info = await stat(path).catch(() => undefined);
    if (!info || info.mtimeMs + validForMs < this.clock.now().getTime()) return undefined;
    return { stream: createReadStream(path), bytes: info.size, filename: match[1] as string };
  }

  private async removeExpired(): Promise<void> {
    const cutoff = this.clock.now().getTime() - validForMs;
    for (const name of await readdir(this.directory)) {
      const path = join(this.directory, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }
}
