import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '#core/errors.js';
import { generationLimits, parseGenerationSource, type GenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';

/** Generations in S3 with the same layout as the local folder: `<prefix><generationId>/<file>`. */
export class S3GenerationStore implements GenerationStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async load(generationId: string): Promise<GenerationSource | undefined> {
    const folder = `${this.prefix}${generationId}/`;
    const keys: { key: string; size: number }[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: folder },
    )) {
      for (const object of page.Contents ?? []) {
        if (object.Key && !object.Key.endsWith('/')) keys.push({ key: object.Key, size: object.Size ?? 0 });
      }
    }
    if (keys.length === 0) return undefined;
    const totalBytes = keys.reduce((sum, k) => sum + k.size, 0);
    if (keys.length > generationLimits.maxFiles || totalBytes > generationLimits.maxTotalBytes) {
      throw new AppError('payload_too_large', `Generation ${generationId} is larger than a preview allows.`);
    }
    const files = new Map<string, Buffer>();
    for (const { key } of keys) {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = await object.Body?.transformToByteArray();
      files.set(key.slice(folder.length), Buffer.from(bytes ?? []));
    }
    return parseGenerationSource(generationId, files);
  }
}
