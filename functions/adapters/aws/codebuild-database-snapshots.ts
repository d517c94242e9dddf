import { setTimeout } from 'node:timers/promises';
import { StartBuildCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DatabaseSnapshotStore, SnapshotEviction } from '#core/database-snapshots.js';
import type { EcsSettings } from '#core/config.js';
import { AppError } from '#core/errors.js';
import type { PreviewTaskDefinition } from '#core/task-definition.js';
import { buildCompletion, failureLines } from './codebuild-image-builder.js';
import { snapshotBuildFiles, snapshotBuildPlan, snapshotBuildScript } from './database-snapshot-build.js';
import {
  generationTag,
  snapshotTag,
  type EcrSnapshot,
  type EcrSnapshotImages,
} from './ecr-snapshot-images.js';
import { deleteParameters, writeSecureParameters } from './secure-parameters.js';
import { zipArchive } from './zip-archive.js';

export type SnapshotBuildSettings = Pick<
  EcsSettings,
  'repositoryUri' | 'buildBucket' | 'buildPrefix' | 'secretsPath' | 'secretsKeyId'
> & {
  /** The CodeBuild project with the snapshot buildspec (`snapshotBuildspec`). */
  readonly project: string;
};

export interface CodeBuildDatabaseSnapshotsClients {
  readonly codeBuild: CodeBuildClient;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
}

export interface CodeBuildDatabaseSnapshotsOptions {
  /** Between two looks at a running build. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** DeleteParameters takes at most ten names. */

/**
 * Database snapshots in AWS: images in the preview repository (`EcrSnapshotImages`), made by a
 * CodeBuild project that runs the task's database, migrate and seed containers on their own and
 * pushes the result (database-snapshot-build.ts). The build's secret values are SSM SecureString
 * parameters under `<secrets path>/db-snapshot-<key>/`, written before the build and deleted once it
 * is over: by the build itself, and here (a build that never ran).
 */
export class CodeBuildDatabaseSnapshots implements DatabaseSnapshotStore {
  private readonly pollMs: number;
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(
    private readonly images: EcrSnapshotImages,
    private readonly clients: CodeBuildDatabaseSnapshotsClients,
    private readonly settings: SnapshotBuildSettings,
    options: CodeBuildDatabaseSnapshotsOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 5000;
    this.sleep = options.sleep ?? setTimeout;
  }

  find(key: string): Promise<EcrSnapshot | undefined> {
    return this.images.find(key);
  }

  imageId(image: string): Promise<string> {
    return this.images.imageId(image);
  }

  list(generationId?: string): Promise<EcrSnapshot[]> {
    return this.images.list(generationId);
  }

  evict(policy: SnapshotEviction): Promise<string[]> {
    return this.images.evict(policy);
  }

  /**
   * Builds the snapshot of `key` unless ECR has it, and waits for the build to end. Two launches of
   * the same key within five minutes share one build (StartBuild's idempotency token).
   */
  async capture({
    key,
    generationId,
    task,
  }: {
    key: string;
    generationId: string;
    task: PreviewTaskDefinition;
  }): Promise<void> {
    if (await this.images.find(key)) return;
    const built = snapshotBuildPlan(task);
    if (!built) return;
    const tag = snapshotTag(key);
    const source = `${this.settings.buildPrefix}${tag}.zip`;
    await this.clients.s3.send(
      new PutObjectCommand({
        Bucket: this.settings.buildBucket,
        Key: source,
        Body: zipArchive(
          new Map([
            [snapshotBuildFiles.plan, Buffer.from(JSON.stringify(built.plan))],
            [snapshotBuildFiles.script, Buffer.from(snapshotBuildScript)],
          ]),
        ),
        ContentType: 'application/zip',
      }),
    );
    const parameters = built.secrets.map((secret) => ({
      ...secret,
      parameterName: `${this.settings.secretsPath}/${tag}/${secret.variable}`,
    }));
    try {
      await writeSecureParameters(this.clients.ssm, this.settings.secretsKeyId, parameters);
      const { build } = await this.clients.codeBuild.send(
        new StartBuildCommand({
          projectName: this.settings.project,
          sourceTypeOverride: 'S3',
          sourceLocationOverride: `${this.settings.buildBucket}/${source}`,
          idempotencyToken: tag,
          environmentVariablesOverride: [
            { name: 'SNAPSHOT_REPO', value: this.settings.repositoryUri, type: 'PLAINTEXT' },
            { name: 'SNAPSHOT_TAG', value: tag, type: 'PLAINTEXT' },
            { name: 'SNAPSHOT_GENERATION_TAG', value: generationTag(key, generationId), type: 'PLAINTEXT' },
            {
              name: 'SNAPSHOT_PARAMETERS',
              value: parameters.map((p) => p.parameterName).join(' '),
              type: 'PLAINTEXT',
            },
            ...parameters.map((p) => ({
              name: p.variable,
              value: p.parameterName,
              type: 'PARAMETER_STORE' as const,
            })),
          ],
        }),
      );
      if (!build?.id) throw new AppError('internal', `CodeBuild started no snapshot build for ${key}.`);
      const finished = await buildCompletion(this.clients.codeBuild, build.id, noop, {
        pollMs: this.pollMs,
        sleep: this.sleep,
      });
      if (finished.buildStatus !== 'SUCCEEDED') {
        throw new AppError(
          'internal',
          `The snapshot build ${build.id} ended ${finished.buildStatus ?? 'without a status'}: ${failureLines(finished).join('; ')}`,
        );
      }
    } finally {
      await deleteParameters(
        this.clients.ssm,
        parameters.map((p) => p.parameterName),
      );
    }
  }
}

function noop(): void {}
