import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { addSeconds, type Clock } from '#core/clock.js';
import type { ExportFile } from '#core/log-export.js';
import type { ExportStore } from '#core/log-ports.js';

const validForSeconds = 3600;
/** The smallest part S3 accepts, two in flight: an export of any size holds about 15 MB. */
const partSize = 5 * 1024 * 1024;
const queueSize = 2;

/**
 * Large exports in S3: streamed as a multipart upload under `<prefix><previewId>/`, where a
 * lifecycle rule removes them, and handed out as a presigned GET URL valid for an hour.
 */
export class S3ExportStore implements ExportStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {}

  async save(file: ExportFile, chunks: AsyncIterable<Buffer>, previewId: string) {
    // The filename is `<generationId>-logs.<ext>` and generation ids have no dots.
    const extension = file.filename.slice(file.filename.indexOf('.') + 1);
    const key = `${this.prefix}${previewId}/${randomBytes(16).toString('hex')}.${extension}`;
    const counted = { bytes: 0 };
    await new Upload({
      client: this.client,
      partSize,
      queueSize,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: Readable.from(counting(chunks, counted)),
        // As the inline answer: the gzip export is the file itself, so no Content-Encoding.
        ContentType: file.contentType,
        ContentDisposition: `attachment; filename="${file.filename}"`,
        CacheControl: 'no-store',
        // The bucket's default (SSE-S3), stated so a changed default cannot leave exports unencrypted.
        ServerSideEncryption: 'AES256',
      },
    }).done();
    const signedAt = this.clock.now();
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: validForSeconds,
      signingDate: signedAt,
    });
    return { url, expiresAt: addSeconds(signedAt, validForSeconds), bytes: counted.bytes };
  }
}

async function* counting(chunks: AsyncIterable<Buffer>, counted: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    counted.bytes += chunk.length;
    yield chunk;
  }
}
