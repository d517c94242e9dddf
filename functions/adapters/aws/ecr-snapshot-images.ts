import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  ImageNotFoundException,
  paginateDescribeImages,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { ecrRepositoryUri } from '#core/config.js';
import type { DatabaseSnapshot, SnapshotEviction } from '#core/database-snapshots.js';
import { AppError } from '#core/errors.js';

/**
 * Where a snapshot image holds its data: outside the database image's own VOLUME, and declared a
 * VOLUME itself, so Fargate copies it into the task's bind mount there (see the snapshot build).
 */
export const snapshotDataPath = '/var/lib/postgresql/snapshot';

const tagPrefix = 'db-snapshot-';
const keyTag = /^db-snapshot-([0-9a-f]{32})$/;
/** BatchDeleteImage takes at most 100 image ids. */
const deleteBatch = 100;

/** The tag `find` looks up: `db-snapshot-<key>`. */
export function snapshotTag(key: string): string {
  return `${tagPrefix}${key}`;
}

/**
 * The snapshot's second tag, naming its generation (hashed: a generation id may hold 100
 * characters, a Docker tag 128), so a generation's snapshots are found by tag.
 */
export function generationTag(key: string, generationId: string): string {
  const generation = createHash('sha256').update(generationId).digest('hex').slice(0, 24);
  return `${snapshotTag(key)}-g${generation}`;
}

/** `<registry>/<repository>` and the repository's name and registry id (the account). */
interface Repository {
  readonly uri: string;
  readonly name: string;
  readonly registryId: string;
}

function repositoryOf(uri: string): Repository | undefined {
  const match = ecrRepositoryUri.exec(uri);
  return match ? { uri, registryId: match[1] ?? '', name: match[2] ?? '' } : undefined;
}

/**
 * Database snapshots as tags of the preview image repository in ECR: `db-snapshot-<key>`, and
 * `db-snapshot-<key>-g<generation hash>` on the same image. ECR is the catalogue (find, list,
 * evict); the images are made by the snapshot build (codebuild-database-snapshots.ts).
 */
export class EcrSnapshotImages {
  private readonly repository: Repository;

  constructor(
    private readonly ecr: ECRClient,
    repositoryUri: string,
  ) {
    const repository = repositoryOf(repositoryUri);
    if (!repository) throw new AppError('internal', `${repositoryUri} is not an ECR repository URI.`);
    this.repository = repository;
  }

  async find(key: string): Promise<EcrSnapshot | undefined> {
    try {
      const { imageDetails = [] } = await this.ecr.send(
        new DescribeImagesCommand({
          repositoryName: this.repository.name,
          imageIds: [{ imageTag: snapshotTag(key) }],
        }),
      );
      const [image] = imageDetails;
      return image && this.snapshotOf(key, image, '');
    } catch (error) {
      if (error instanceof ImageNotFoundException) return undefined;
      throw error;
    }
  }

  /**
   * ECR's digest of a database image in ECR (the pull-through cache): a tag that moves upstream
   * names other content, so a new key. An image outside ECR, or not pulled through yet, has none.
   */
  async imageId(image: string): Promise<string> {
    const at = image.indexOf('@');
    if (at !== -1) return image.slice(at + 1);
    const colon = image.lastIndexOf(':');
    const tagged = colon > image.lastIndexOf('/');
    const repository = repositoryOf(tagged ? image.slice(0, colon) : image);
    if (!repository)
      throw new AppError('internal', `${image} is not an image in ECR: its digest is unknown.`);
    const { imageDetails = [] } = await this.ecr.send(
      new DescribeImagesCommand({
        registryId: repository.registryId,
        repositoryName: repository.name,
        imageIds: [{ imageTag: tagged ? image.slice(colon + 1) : 'latest' }],
      }),
    );
    const digest = imageDetails[0]?.imageDigest;
    if (!digest) throw new AppError('internal', `ECR gave no digest for ${image}.`);
    return digest;
  }

  /** Newest first; a generation's alone when one is named. */
  async list(generationId?: string): Promise<EcrSnapshot[]> {
    const snapshots: EcrSnapshot[] = [];
    const pages = paginateDescribeImages(
      { client: this.ecr },
      { repositoryName: this.repository.name, filter: { tagStatus: 'TAGGED' } },
    );
    for await (const page of pages) {
      for (const image of page.imageDetails ?? []) {
        const key = keyOf(image);
        if (key === undefined) continue;
        if (generationId !== undefined && !image.imageTags?.includes(generationTag(key, generationId)))
          continue;
        snapshots.push(this.snapshotOf(key, image, generationId ?? ''));
      }
    }
    return snapshots.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Deletes the snapshots pushed longer ago than the age limit, then the oldest beyond the count
   * (a running task keeps the copy it pulled); returns their keys.
   */
  async evict({ maxCount, maxAgeSeconds, now }: SnapshotEviction): Promise<string[]> {
    const newestFirst = await this.list();
    const oldest = now.getTime() - maxAgeSeconds * 1000;
    const evicted = newestFirst.filter(
      (snapshot, index) => index >= maxCount || Date.parse(snapshot.createdAt) < oldest,
    );
    const removed: string[] = [];
    for (let start = 0; start < evicted.length; start += deleteBatch) {
      const batch = evicted.slice(start, start + deleteBatch);
      const { imageIds = [] } = await this.ecr.send(
        new BatchDeleteImageCommand({
          repositoryName: this.repository.name,
          // By digest: the image goes with both its tags.
          imageIds: batch.map((snapshot) => ({ imageDigest: snapshot.digest })),
        }),
      );
      // Gone already (another eviction): listed under `failures`, not here.
      const deleted = new Set(imageIds.map((id) => id.imageDigest));
      removed.push(...batch.filter((s) => deleted.has(s.digest)).map((s) => s.key));
    }
    return removed;
  }

  private snapshotOf(key: string, image: ImageDetail, generationId: string): EcrSnapshot {
    return {
      key,
      image: `${this.repository.uri}:${snapshotTag(key)}`,
      dataPath: snapshotDataPath,
      // Fargate fills the task's database volume with the image's `VOLUME` content.
      restoredOn: 'volume',
      generationId,
      createdAt: (image.imagePushedAt ?? new Date(0)).toISOString(),
      ...(image.imageSizeInBytes === undefined ? {} : { sizeBytes: image.imageSizeInBytes }),
      digest: image.imageDigest ?? '',
    };
  }
}

/** A snapshot and the digest ECR deletes it by. */
export interface EcrSnapshot extends DatabaseSnapshot {
  readonly digest: string;
}

function keyOf(image: ImageDetail): string | undefined {
  for (const tag of image.imageTags ?? []) {
    const match = keyTag.exec(tag);
    if (match) return match[1];
  }
  return undefined;
}
