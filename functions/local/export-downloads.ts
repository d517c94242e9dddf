import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { LocalExportStore } from '#adapters/local/local-export-store.js';
import { decodePathPart } from './api-gateway-event.js';
import type { GatewayExtension } from './gateway.js';

const contentTypes: readonly [RegExp, string][] = [
  [/\.json\.gz$/, 'application/gzip'],
  [/\.json$/, 'application/json'],
  [/\.csv$/, 'text/csv; charset=utf-8'],
];

/**
 * Serves large exports at the URLs the local export store hands out (`/local-exports/<name>`),
 * streamed from disk, as S3 serves a presigned URL: the unguessable name is the permission.
 */
export class LocalExportDownloads implements GatewayExtension {
  constructor(private readonly store: LocalExportStore) {}

  request(req: IncomingMessage, res: ServerResponse): boolean {
    const match = /^\/local-exports\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!match || req.method !== 'GET') return false;
    void this.download(res, decodePathPart(match[1] as string)).catch((error: unknown) => {
      console.error('local exports: download failed', error);
      res.destroy();
    });
    return true;
  }

  private async download(res: ServerResponse, name: string): Promise<void> {
    const found = await this.store.open(name);
    if (!found) {
      const body = JSON.stringify({
        error: { code: 'not_found', message: 'This download link has expired.' },
      });
      res.writeHead(404, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(body);
      return;
    }
    res.writeHead(200, {
      'content-type':
        contentTypes.find(([pattern]) => pattern.test(found.filename))?.[1] ?? 'application/octet-stream',
      'content-length': String(found.bytes),
      'content-disposition': `attachment; filename="${found.filename}"`,
    });
    await pipeline(found.stream, res);
  }
}
