import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  StartBuildCommand,
  type BatchGetBuildsCommandOutput,
} from '@aws-sdk/client-codebuild';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException } from '@aws-sdk/client-ecr';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodeBuildImageBuilder, imageBuildspec } from '#adapters/aws/codebuild-image-builder.js';
import { parseGenerationSource } from '#core/generation.js';
import { sourceHash, taskFailureOf } from '#core/task-runner.js';
import { awsFixture, settings } from './aws-fixtures.js';
import { unzip } from '../../support/unzip.js';

const files = new Map([
  [
    'generation.json',
    Buffer.from(
      JSON.stringify({ id: 'g1', projectId: 'p1', dbType: 'none', entryPoint: 'uvicorn app.main:app' }),
    ),
  ],
  ['Dockerfile', Buffer.from('FROM python:3.11-slim\nCOPY . /app\n')],
  ['app/main.py', Buffer.from('from fastapi import FastAPI\napp = FastAPI()\n')],
]);
const source = parseGenerationSource('g1', files);
const hash = sourceHash(files);
const repository = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app';
const buildId = 'preview-image-build:6f1c3e2a-9b8d-4c7e-a5f4-3b2a1c0d9e8f';

const ecr = mockClient(ECRClient);
const s3 = mockClient(S3Client);
const codeBuild = mockClient(CodeBuildClient);
let sleeps: number[] = [];

function builder() {
  return new CodeBuildImageBuilder(
    { ecr: new ECRClient({}), s3: new S3Client({}), codeBuild: new CodeBuildClient({}) },
    settings,
    { pollMs: 1234, sleep: async (ms) => void sleeps.push(ms) },
  );
}

function imageMissing() {
  ecr.on(DescribeImagesCommand).rejects(
    new ImageNotFoundException({
      message: `The image with imageId {imageDigest:'null', imageTag:'${hash}'} does not exist within the repository with name 'preview-app' in the registry with id '123456789012'`,
      $metadata: {},
    }),
  );
  s3.on(PutObjectCommand).resolves({ ETag: '"0f1e2d3c"' });
  codeBuild.on(StartBuildCommand).resolves({ build: { id: buildId, buildStatus: 'IN_PROGRESS' } });
}

beforeEach(() => {
  ecr.reset();
  s3.reset();
  codeBuild.reset();
  sleeps = [];
});

describe('CodeBuildImageBuilder', () => {
  it('uses the image ECR has under the content hash, and builds nothing', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          registryId: '123456789012',
          repositoryName: 'preview-app',
          imageDigest: 'sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
          imageTags: [hash],
          imageSizeInBytes: 61_234_567,
          imagePushedAt: new Date('2026-01-01T10:00:00Z'),
        },
      ],
    });
    const lines: string[] = [];

    await expect(builder().ensureImage(source, (line) => lines.push(line))).resolves.toEqual({
      imageRef: `${repository}:${hash}`,
      cached: true,
    });

    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'preview-app',
      imageIds: [{ imageTag: hash }],
    });
    expect(s3.calls()).toHaveLength(0);
    expect(codeBuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(lines).toEqual([]);
  });

  it('uploads the files, starts the build and follows its phases to the end', async () => {
    imageMissing();
    codeBuild
      .on(BatchGetBuildsCommand)
      .resolvesOnce(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-in-progress'))
      .resolves(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-succeeded'));
    const lines: string[] = [];

    await expect(builder().ensureImage(source, (line) => lines.push(line))).resolves.toEqual({
      imageRef: `${repository}:${hash}`,
      cached: false,
    });

    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input as PutObjectCommandInput;
    expect({ ...put, Body: undefined }).toEqual({
      Bucket: 'preview-build-sources',
      Key: `build-sources/${hash}.zip`,
      ContentType: 'application/zip',
      Body: undefined,
    });
    expect(await unzip(put.Body as Buffer)).toEqual(files);
    expect(codeBuild.commandCalls(StartBuildCommand)[0]?.args[0].input).toEqual({
      projectName: 'preview-image-build',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `preview-build-sources/build-sources/${hash}.zip`,
      environmentVariablesOverride: [
        { name: 'IMAGE_REPO', value: repository, type: 'PLAINTEXT' },
        { name: 'IMAGE_TAG', value: hash, type: 'PLAINTEXT' },
        { name: 'DOCKERFILE', value: 'Dockerfile', type: 'PLAINTEXT' },
      ],
    });
    expect(codeBuild.commandCalls(BatchGetBuildsCommand).map((call) => call.args[0].input)).toEqual([
      { ids: [buildId] },
      { ids: [buildId] },
    ]);
    expect(sleeps).toEqual([1234]);
    expect(lines).toEqual([
      'SUBMITTED: SUCCEEDED',
      'QUEUED: SUCCEEDED',
      'PROVISIONING: SUCCEEDED',
      'DOWNLOAD_SOURCE: SUCCEEDED',
      'INSTALL: SUCCEEDED',
      'PRE_BUILD: SUCCEEDED',
      'BUILD',
      'BUILD: SUCCEEDED',
      'POST_BUILD: SUCCEEDED',
      'UPLOAD_ARTIFACTS: SUCCEEDED',
      'FINALIZING: SUCCEEDED',
      'COMPLETED',
    ]);
  });

  it('builds a generation without a Dockerfile with the generated one, in the archive and the tag', async () => {
    imageMissing();
    codeBuild
      .on(BatchGetBuildsCommand)
      .resolves(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-succeeded'));
    const withoutDockerfile = new Map([...files].filter(([path]) => path !== 'Dockerfile'));
    const generated = parseGenerationSource('g1', withoutDockerfile);
    const generatedHash = sourceHash(generated.files);
    expect(generatedHash).not.toBe(hash);

    await expect(builder().ensureImage(generated, () => undefined)).resolves.toEqual({
      imageRef: `${repository}:${generatedHash}`,
      cached: false,
    });

    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'preview-app',
      imageIds: [{ imageTag: generatedHash }],
    });
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input as PutObjectCommandInput;
    expect(put.Key).toBe(`build-sources/${generatedHash}.zip`);
    expect(await unzip(put.Body as Buffer)).toEqual(
      new Map([...withoutDockerfile, ['Dockerfile', Buffer.from(generated.generatedDockerfile ?? '')]]),
    );
    expect(codeBuild.commandCalls(StartBuildCommand)[0]?.args[0].input).toEqual({
      projectName: 'preview-image-build',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `preview-build-sources/build-sources/${generatedHash}.zip`,
      environmentVariablesOverride: [
        { name: 'IMAGE_REPO', value: repository, type: 'PLAINTEXT' },
        { name: 'IMAGE_TAG', value: generatedHash, type: 'PLAINTEXT' },
        { name: 'DOCKERFILE', value: 'Dockerfile', type: 'PLAINTEXT' },
      ],
    });
  });

  it('fails the build step with what CodeBuild said about the failed phase', async () => {
    imageMissing();
    codeBuild
      .on(BatchGetBuildsCommand)
      .resolves(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-failed'));

    const error = await builder()
      .ensureImage(source, () => undefined)
      .catch((e: unknown) => e);

    expect(taskFailureOf(error)).toEqual({
      step: 'build',
      reason: 'build_error',
      lastLines: [
        'BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: docker build -f "$DOCKERFILE" -t preview-build .. Reason: exit status 1',
      ],
    });
    expect(sleeps).toEqual([]);
  });

  it('reports a build that ran out of time as a timeout', async () => {
    imageMissing();
    const timedOut = awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-in-progress');
    const build = { ...timedOut.builds![0], buildStatus: 'TIMED_OUT' as const, buildComplete: true };
    codeBuild.on(BatchGetBuildsCommand).resolves({ builds: [build] });

    const error = await builder()
      .ensureImage(source, () => undefined)
      .catch((e: unknown) => e);

    expect(taskFailureOf(error)).toEqual({
      step: 'build',
      reason: 'timeout',
      lastLines: ['The build ended with status TIMED_OUT.'],
    });
  });
});

describe('imageBuildspec', () => {
  it('logs in to the registry, builds with the generation Dockerfile, marks /tmp a volume and pushes', () => {
    expect(imageBuildspec.version).toBe('0.2');
    expect(imageBuildspec.phases.pre_build.commands).toEqual([
      'aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE_REPO%%/*}"',
    ]);
    expect(imageBuildspec.phases.build.commands).toEqual([
      'docker build -f "$DOCKERFILE" -t preview-build .',
      `printf 'FROM preview-build\\nVOLUME ["/tmp"]\\n' | docker build -t "$IMAGE_REPO:$IMAGE_TAG" -`,
      'docker push "$IMAGE_REPO:$IMAGE_TAG"',
    ]);
  });
});
