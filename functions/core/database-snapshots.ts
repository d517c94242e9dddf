import { createHash } from 'node:crypto';
import type { PreviewTaskDefinition, SnapshotRestore } from './task-definition.js';

/**
 * A database as migrations and seed left it, kept so a later launch of the same inputs starts from
 * it and skips both steps. A database image: in the local Docker engine, or in ECR in AWS.
 */
export interface DatabaseSnapshot {
  /** The content hash of everything that produced the data (see `snapshotKey`). */
  readonly key: string;
  /** The database image that starts with the data in place. */
  readonly image: string;
  /** Where that image holds the data. */
  readonly dataPath: string;
  readonly restoredOn: SnapshotRestore;
  readonly generationId: string;
  readonly createdAt: string;
  readonly sizeBytes?: number;
}

export interface SnapshotEviction {
  readonly maxCount: number;
  readonly maxAgeSeconds: number;
  readonly now: Date;
}

/** Where snapshots are kept: the local Docker engine's images, or tags of an ECR repository in AWS. */
export interface DatabaseSnapshotStore {
  find(key: string): Promise<DatabaseSnapshot | undefined>;
  /** The runtime's id of a database image: a tag rebuilt from other content has another. */
  imageId(image: string): Promise<string>;
  /**
   * Makes the snapshot of `key` unless it exists: the task's database, migrations and seed run once
   * more, on their own, and the cleanly stopped database is kept. The launch's own database is
   * never touched (the user may be writing to it already).
   */
  capture(input: { key: string; generationId: string; task: PreviewTaskDefinition }): Promise<void>;
  list(generationId?: string): Promise<DatabaseSnapshot[]>;
  /** Removes snapshots older than the age limit, then the oldest beyond the count; returns their keys. */
  evict(policy: SnapshotEviction): Promise<string[]>;
}

/** What `snapshotKey` hashes: every input that changes the data migrations and seed produce. */
export interface SnapshotInputs {
  /** The app image, tagged by the content hash of the generation's files (migrations and seed included). */
  readonly appImage: string;
  /** The database image and its engine's id for it, so a rebuilt tag is a new input too. */
  readonly databaseImage: string;
  readonly databaseImageId: string;
  readonly migrationCommand: string | undefined;
  readonly seedCommand: string | undefined;
  /** The generation's own environment: a seed may read it. */
  readonly environment: Readonly<Record<string, string>>;
}

/** Bumped when the way snapshots are made changes, so older ones are never reused. */
const snapshotFormat = 1;

export function snapshotKey(inputs: SnapshotInputs): string {
  const environment = Object.entries(inputs.environment).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify({ format: snapshotFormat, ...inputs, environment }))
    .digest('hex')
    .slice(0, 32);
}

/** How a runtime keeps snapshots, and for how long. */
export interface DatabaseSnapshotSettings {
  readonly store: DatabaseSnapshotStore;
  readonly maxCount: number;
  readonly maxAgeSeconds: number;
  /** A snapshot that could not be looked up, made or evicted: logged, never a launch's failure. */
  readonly onError: (error: unknown, context: { key?: string; generationId: string }) => void;
}

/** What `GET …/preview/config` shows of snapshots: a generation's, and how long they are kept. */
export interface SnapshotListing extends Pick<DatabaseSnapshotSettings, 'maxCount' | 'maxAgeSeconds'> {
  readonly store: Pick<DatabaseSnapshotStore, 'list'>;
}
