import { setTimeout } from 'node:timers/promises';
import {
  BatchGetBuildsCommand,
  StartBuildCommand,
  type Build,
  type CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import { DescribeImagesCommand, ImageNotFoundException, type ECRClient } from '@aws-sdk/client-ecr';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '#core/errors.js';
import type { GenerationSource } from '#core/generation.js';
import { sourceHash, taskFailed, type BuiltImage, type ImageBuilder } from '#core/task-runner.js';
import type { EcsSettings } from '#core/config.js';
import { zipArchive } from './zip-archive.js';

export type ImageBuildSettings = Pick<
  EcsSettings,
  'repositoryUri' | 'codeBuildProject' | 'buildBucket' | 'buildPrefix'
>;

export interface CodeBuildImageBuilderClients {
  readonly ecr: ECRClient;
  readonly s3: S3Client;
  readonly codeBuild: CodeBuildClient;
}

export interface CodeBuildImageBuilderOptions {
  /** Between two looks at a running build. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * The build project's buildspec (for the CDK: `BuildSpec.fromObject(imageBuildspec)`, in privileged
 * mode so it can run Docker). StartBuild passes IMAGE_REPO, IMAGE_TAG and DOCKERFILE.
 */
export const imageBuildspec = {
  version: '0.2',
  phases: {
    pre_build: {
      commands: [
        'aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE_REPO%%/*}"',
      ],
    },
    build: {
      commands: [
        'docker build -f "$DOCKERFILE" -t preview-build .',
        // Fargate mounts the task's /tmp volume as root's unless the image declares the path a
        // VOLUME, whose contents and mode it then copies in: this keeps /tmp writable for the app.
        `printf 'FROM preview-build\\nVOLUME ["/tmp"]\\n' | docker build -t "$IMAGE_REPO:$IMAGE_TAG" -`,
        'docker push "$IMAGE_REPO:$IMAGE_TAG"',
      ],
    },
  },
} as const;

/**
 * Builds generation images on CodeBuild into ECR, tagged with their content hash; the tag's presence
 * in ECR is the cache. CodeBuild's own log goes to CloudWatch Logs: the build log here is its phases.
 */
export class CodeBuildImageBuilder implements ImageBuilder {
  private readonly pollMs: number;
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(
    private readonly clients: CodeBuildImageBuilderClients,
    private readonly settings: ImageBuildSettings,
    options: CodeBuildImageBuilderOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 5000;
    this.sleep = options.sleep ?? setTimeout;
  }

  async ensureImage(source: GenerationSource, onBuildLog: (line: string) => void): Promise<BuiltImage> {
    const tag = sourceHash(source.files);
    const imageRef = `${this.settings.repositoryUri}:${tag}`;
    if (await this.exists(tag)) return { imageRef, cached: true };

    const key = `${this.settings.buildPrefix}${tag}.zip`;
    await this.clients.s3.send(
      new PutObjectCommand({
        Bucket: this.settings.buildBucket,
        Key: key,
        Body: zipArchive(source.files),
        ContentType: 'application/zip',
      }),
    );
    const { build } = await this.clients.codeBuild.send(
      new StartBuildCommand({
        projectName: this.settings.codeBuildProject,
        sourceTypeOverride: 'S3',
        sourceLocationOverride: `${this.settings.buildBucket}/${key}`,
        environmentVariablesOverride: [
          { name: 'IMAGE_REPO', value: this.settings.repositoryUri, type: 'PLAINTEXT' },
          { name: 'IMAGE_TAG', value: tag, type: 'PLAINTEXT' },
          { name: 'DOCKERFILE', value: source.generation.dockerfile, type: 'PLAINTEXT' },
        ],
      }),
    );
    if (!build?.id) throw new AppError('internal', `CodeBuild started no build for ${source.generation.id}.`);
    const finished = await buildCompletion(this.clients.codeBuild, build.id, onBuildLog, {
      pollMs: this.pollMs,
      sleep: this.sleep,
    });
    if (finished.buildStatus !== 'SUCCEEDED') {
      throw taskFailed({
        step: 'build',
        reason: finished.buildStatus === 'TIMED_OUT' ? 'timeout' : 'build_error',
        lastLines: failureLines(finished),
      });
    }
    return { imageRef, cached: false };
  }

  private async exists(tag: string): Promise<boolean> {
    const uri = this.settings.repositoryUri;
    try {
      const { imageDetails = [] } = await this.clients.ecr.send(
        new DescribeImagesCommand({
          repositoryName: uri.slice(uri.indexOf('/') + 1),
          imageIds: [{ imageTag: tag }],
        }),
      );
      return imageDetails.length > 0;
    } catch (error) {
      if (error instanceof ImageNotFoundException) return false;
      throw error;
    }
  }
}

/** Polls a build until it is complete, reporting each phase as it starts and ends. */
export async function buildCompletion(
  codeBuild: CodeBuildClient,
  buildId: string,
  onPhase: (line: string) => void,
  polling: { readonly pollMs: number; readonly sleep: (ms: number) => Promise<unknown> },
): Promise<Build> {
  const reported = new Set<string>();
  for (;;) {
    const { builds = [] } = await codeBuild.send(new BatchGetBuildsCommand({ ids: [buildId] }));
    const [build] = builds;
    if (!build) throw new AppError('internal', `CodeBuild does not know build ${buildId}.`);
    for (const phase of build.phases ?? []) {
      const line = phase.phaseStatus ? `${phase.phaseType}: ${phase.phaseStatus}` : `${phase.phaseType}`;
      if (reported.has(line)) continue;
      reported.add(line);
      onPhase(line);
    }
    if (build.buildComplete) return build;
    await polling.sleep(polling.pollMs);
  }
}

/** What CodeBuild says about the phases that did not succeed, e.g. the command that failed. */
export function failureLines(build: Build): string[] {
  const lines = (build.phases ?? [])
    .filter((phase) => phase.phaseStatus !== undefined && phase.phaseStatus !== 'SUCCEEDED')
    .flatMap((phase) =>
      (phase.contexts ?? [])
        .filter((context) => context.message)
        .map((context) => `${phase.phaseType}: ${context.statusCode}: ${context.message}`),
    );
  return lines.length > 0 ? lines : [`The build ended with status ${build.buildStatus}.`];
}
