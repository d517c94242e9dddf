import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  StartBuildCommand,
  type BatchGetBuildsCommandOutput,
} from '@aws-sdk/client-codebuild';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  type DescribeImagesCommandOutput,
} from '@aws-sdk/client-ecr';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodeBuildDatabaseSnapshots } from '#adapters/aws/codebuild-database-snapshots.js';
import {
  snapshotBuildScript,
  snapshotBuildspec,
  type SnapshotBuildPlan,
} from '#adapters/aws/database-snapshot-build.js';
import { EcrSnapshotImages, generationTag, snapshotDataPath } from '#adapters/aws/ecr-snapshot-images.js';
import { buildTaskDefinition } from '#core/task-definition.js';
import { defaultTiers } from '#core/tiers.js';
import { awsFixture, exampleGeneration, settings } from './aws-fixtures.js';
import { unzip } from '../../support/unzip.js';

const repository = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app';
const key = '3f9c2a7d5e1b4c8a9d0e6f2b7a4c1d3e';
const tag = `db-snapshot-${key}`;
const secretsPath = '/preview-service/test/secrets';
const buildId = 'preview-db-snapshot-build:2c7e9a41-5d3b-4f8e-9a6c-1b0d2e3f4a5b';
const postgres = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-test/docker/library/postgres:15';

const ecr = mockClient(ECRClient);
const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
const codeBuild = mockClient(CodeBuildClient);
let sleeps: number[] = [];

const images = () => new EcrSnapshotImages(new ECRClient({}), repository);

function store() {
  return new CodeBuildDatabaseSnapshots(
    images(),
    { codeBuild: new CodeBuildClient({}), s3: new S3Client({}), ssm: new SSMClient({}) },
    { ...settings, repositoryUri: repository, project: 'preview-db-snapshot-build' },
    { pollMs: 2500, sleep: async (ms) => void sleeps.push(ms) },
  );
}

/** The task a launch of the example would run, with the snapshot's own database password. */
function snapshotTask(env: Record<string, string> = {}) {
  const generation = exampleGeneration('todo-postgres');
  return buildTaskDefinition({
    previewId: 'prv-01jd4x',
    generation: { ...generation, env: { ...generation.env, ...env } },
    tier: defaultTiers.pro,
    appImage: `${repository}:9d41c6e0`,
    databasePassword: 'throwaway-7Qm2',
    databaseImages: { postgresql: postgres },
  });
}

function snapshotMissing() {
  ecr.on(DescribeImagesCommand).rejects(
    new ImageNotFoundException({
      message: `The image with imageId {imageDigest:'null', imageTag:'${tag}'} does not exist within the repository with name 'preview-app' in the registry with id '123456789012'`,
      $metadata: {},
    }),
  );
  s3.on(PutObjectCommand).resolves({ ETag: '"0f1e2d3c"' });
  ssm.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Standard' });
  ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: [], InvalidParameters: [] });
  codeBuild.on(StartBuildCommand).resolves({ build: { id: buildId, buildStatus: 'IN_PROGRESS' } });
}

beforeEach(() => {
  ecr.reset();
  s3.reset();
  ssm.reset();
  codeBuild.reset();
  sleeps = [];
});

describe('EcrSnapshotImages', () => {
  it('finds a snapshot by its tag', async () => {
    const page = awsFixture<DescribeImagesCommandOutput>('describe-images-snapshots-page-1');
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [page.imageDetails?.[1] ?? {}] });

    await expect(images().find(key)).resolves.toEqual({
      key,
      image: `${repository}:${tag}`,
      dataPath: snapshotDataPath,
      restoredOn: 'volume',
      generationId: '',
      createdAt: '2025-12-03T10:00:00.000Z',
      sizeBytes: 153_456_789,
      digest: 'sha256:a3c9e1f7b5d2804e6c1a9f3b7d5e2c8a0f4b6d9e1c3a5f7b2d4e6c8a0b1d3f5e',
    });
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'preview-app',
      imageIds: [{ imageTag: tag }],
    });
  });

  it('finds nothing where ECR has no such tag', async () => {
    snapshotMissing();
    await expect(images().find(key)).resolves.toBeUndefined();
  });

  it("takes a database image's id from ECR: the pull-through cache's digest of its tag", async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: 'sha256:7d1e0c4f', imageTags: ['15'] }],
    });

    await expect(images().imageId(postgres)).resolves.toBe('sha256:7d1e0c4f');
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'preview-test/docker/library/postgres',
      imageIds: [{ imageTag: '15' }],
    });
  });

  it('takes a pinned image’s digest as it is, and knows none for an image outside ECR', async () => {
    await expect(images().imageId(`${postgres.split(':15')[0]}@sha256:9a8b`)).resolves.toBe('sha256:9a8b');
    await expect(images().imageId('postgres:15')).rejects.toThrow('postgres:15 is not an image in ECR');
    expect(ecr.calls()).toHaveLength(0);
  });

  it("lists a generation's snapshots, newest first, over every page of the repository", async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce(awsFixture('describe-images-snapshots-page-1'))
      .resolves(awsFixture('describe-images-snapshots-page-2'));

    const listed = await images().list('todo-postgres');

    expect(listed.map((s) => [s.key, s.generationId, s.createdAt, s.sizeBytes])).toEqual([
      [key, 'todo-postgres', '2025-12-03T10:00:00.000Z', 153_456_789],
      ['8b2e4f6a1c3d5e7f9a0b2c4d6e8f0a1b', 'todo-postgres', '2025-11-30T10:53:20.000Z', 154_567_890],
    ]);
    // The paginator sends one input object, updated page by page: each call shows its last state.
    const inputs = ecr.commandCalls(DescribeImagesCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(input).toEqual({
        repositoryName: 'preview-app',
        filter: { tagStatus: 'TAGGED' },
        nextToken: 'eyJlbmNyeXB0ZWREYXRhIjpbXX0=',
        maxResults: undefined,
      });
    }
  });

  it("tags a generation's snapshots with a hash of its id, within Docker's 128 characters", () => {
    const tagged = generationTag(key, 'todo-postgres');
    expect(tagged).toBe(`${tag}-g795a4b3b09315ad3896a79f2`);
    expect(generationTag(key, 'g'.repeat(100)).length).toBeLessThanOrEqual(128);
  });

  it('evicts by age, then the oldest beyond the count, by digest; one gone already is not counted', async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce(awsFixture('describe-images-snapshots-page-1'))
      .resolves(awsFixture('describe-images-snapshots-page-2'));
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [
        {
          imageDigest: 'sha256:e8b2d4f6a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4',
          imageTag: 'db-snapshot-8b2e4f6a1c3d5e7f9a0b2c4d6e8f0a1b',
        },
      ],
      failures: [
        {
          imageId: { imageDigest: 'sha256:a3c9e1f7b5d2804e6c1a9f3b7d5e2c8a0f4b6d9e1c3a5f7b2d4e6c8a0b1d3f5e' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        },
      ],
    });

    // Newest first: c4d5 (10:33), 3f9c (10:00), 8b2e (three days old). One kept; two days at most.
    const evicted = await images().evict({
      maxCount: 1,
      maxAgeSeconds: 2 * 86_400,
      now: new Date('2025-12-03T12:00:00Z'),
    });

    expect(evicted).toEqual(['8b2e4f6a1c3d5e7f9a0b2c4d6e8f0a1b']);
    expect(ecr.commandCalls(BatchDeleteImageCommand).map((call) => call.args[0].input)).toEqual([
      {
        repositoryName: 'preview-app',
        imageIds: [
          { imageDigest: 'sha256:a3c9e1f7b5d2804e6c1a9f3b7d5e2c8a0f4b6d9e1c3a5f7b2d4e6c8a0b1d3f5e' },
          { imageDigest: 'sha256:e8b2d4f6a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4' },
        ],
      },
    ]);
  });

  it('deletes nothing when every snapshot is within the limits', async () => {
    ecr.on(DescribeImagesCommand).resolves(awsFixture('describe-images-snapshots-page-2'));

    await expect(
      images().evict({ maxCount: 5, maxAgeSeconds: 30 * 86_400, now: new Date('2025-12-03T12:00:00Z') }),
    ).resolves.toEqual([]);
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
  });
});

describe('CodeBuildDatabaseSnapshots', () => {
  it('builds nothing for a key ECR has', async () => {
    ecr.on(DescribeImagesCommand).resolves(awsFixture('describe-images-snapshots-page-1'));

    await store().capture({ key, generationId: 'todo-postgres', task: snapshotTask() });

    expect(s3.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
    expect(codeBuild.calls()).toHaveLength(0);
  });

  it('uploads the plan, gives the secrets as parameters, runs the build to its end and deletes them', async () => {
    snapshotMissing();
    codeBuild
      .on(BatchGetBuildsCommand)
      .resolvesOnce(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-in-progress'))
      .resolves(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-succeeded'));
    const apiKey = 'sk-live-51Hq8';

    await store().capture({
      key,
      generationId: 'todo-postgres',
      task: snapshotTask({ PAYMENTS_API_KEY: apiKey }),
    });

    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input as PutObjectCommandInput;
    expect({ ...put, Body: undefined }).toEqual({
      Bucket: 'preview-build-sources',
      Key: `build-sources/${tag}.zip`,
      ContentType: 'application/zip',
      Body: undefined,
    });
    const files = await unzip(put.Body as Buffer);
    expect([...files.keys()].sort()).toEqual(['build-snapshot.py', 'plan.json']);
    expect(files.get('build-snapshot.py')?.toString('utf8')).toBe(snapshotBuildScript);
    const planText = files.get('plan.json')?.toString('utf8') ?? '';
    // No secret value in the source: the password and the secret-named variable are parameters.
    expect(planText).not.toContain('throwaway-7Qm2');
    expect(planText).not.toContain(apiKey);
    const plan = JSON.parse(planText) as SnapshotBuildPlan;
    expect(plan.dataPath).toBe(snapshotDataPath);
    expect(plan.database).toMatchObject({
      image: postgres,
      user: '999:999',
      command: ['postgres', '-c', 'fsync=off'],
      readyCommand: ['CMD-SHELL', 'pg_isready -q -h 127.0.0.1 -U preview -d preview'],
      secrets: { POSTGRES_PASSWORD: 'SNAPSHOT_SECRET_1' },
    });
    expect(plan.database.environment.PGDATA).toBe(`${snapshotDataPath}/pgdata`);
    expect(plan.steps.map((step) => step.name)).toEqual(['migrate', 'seed']);
    expect(plan.steps[0]?.secrets).toEqual({
      DATABASE_URL: 'SNAPSHOT_SECRET_3',
      DATABASE_URL_ASYNC: 'SNAPSHOT_SECRET_4',
      PAYMENTS_API_KEY: 'SNAPSHOT_SECRET_2',
      PGPASSWORD: 'SNAPSHOT_SECRET_1',
      POSTGRES_PASSWORD: 'SNAPSHOT_SECRET_1',
    });

    const parameter = (n: number) => `${secretsPath}/${tag}/SNAPSHOT_SECRET_${n}`;
    const written = ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(written.map((input) => [input.Name, input.Value])).toEqual([
      [parameter(1), 'throwaway-7Qm2'],
      [parameter(2), apiKey],
      [parameter(3), 'postgresql://preview:throwaway-7Qm2@127.0.0.1:5432/preview'],
      [parameter(4), 'postgresql+asyncpg://preview:throwaway-7Qm2@127.0.0.1:5432/preview'],
    ]);
    expect(written[0]).toEqual({
      Name: parameter(1),
      Value: 'throwaway-7Qm2',
      Type: 'SecureString',
      KeyId: settings.secretsKeyId,
      Tier: 'Standard',
      Overwrite: true,
    });
    expect(codeBuild.commandCalls(StartBuildCommand)[0]?.args[0].input).toEqual({
      projectName: 'preview-db-snapshot-build',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `preview-build-sources/build-sources/${tag}.zip`,
      idempotencyToken: tag,
      environmentVariablesOverride: [
        { name: 'SNAPSHOT_REPO', value: repository, type: 'PLAINTEXT' },
        { name: 'SNAPSHOT_TAG', value: tag, type: 'PLAINTEXT' },
        { name: 'SNAPSHOT_GENERATION_TAG', value: `${tag}-g795a4b3b09315ad3896a79f2`, type: 'PLAINTEXT' },
        // The build deletes them itself, however it ends.
        { name: 'SNAPSHOT_PARAMETERS', value: [1, 2, 3, 4].map(parameter).join(' '), type: 'PLAINTEXT' },
        { name: 'SNAPSHOT_SECRET_1', value: parameter(1), type: 'PARAMETER_STORE' },
        { name: 'SNAPSHOT_SECRET_2', value: parameter(2), type: 'PARAMETER_STORE' },
        { name: 'SNAPSHOT_SECRET_3', value: parameter(3), type: 'PARAMETER_STORE' },
        { name: 'SNAPSHOT_SECRET_4', value: parameter(4), type: 'PARAMETER_STORE' },
      ],
    });
    expect(codeBuild.commandCalls(BatchGetBuildsCommand).map((call) => call.args[0].input)).toEqual([
      { ids: [buildId] },
      { ids: [buildId] },
    ]);
    expect(sleeps).toEqual([2500]);
    expect(ssm.commandCalls(DeleteParametersCommand).map((call) => call.args[0].input)).toEqual([
      { Names: [parameter(1), parameter(2), parameter(3), parameter(4)] },
    ]);
  });

  it('fails with what CodeBuild said, and deletes the parameters all the same', async () => {
    snapshotMissing();
    codeBuild
      .on(BatchGetBuildsCommand)
      .resolves(awsFixture<BatchGetBuildsCommandOutput>('batch-get-builds-snapshot-failed'));

    await expect(
      store().capture({ key, generationId: 'todo-postgres', task: snapshotTask() }),
    ).rejects.toThrow(
      `The snapshot build ${buildId} ended FAILED: BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: python3 build-snapshot.py`,
    );
    expect(ssm.commandCalls(DeleteParametersCommand)[0]?.args[0].input.Names).toHaveLength(3);
  });

  it("pushes the key's tag last, so a snapshot found is complete, and deletes the parameters however the build ends", () => {
    const { commands, finally: cleanup } = snapshotBuildspec.phases.build;
    expect(commands.slice(-2)).toEqual([
      'docker push "$SNAPSHOT_REPO:$SNAPSHOT_GENERATION_TAG"',
      'docker push "$SNAPSHOT_REPO:$SNAPSHOT_TAG"',
    ]);
    expect(cleanup).toEqual([
      'printf "%s\\n" $SNAPSHOT_PARAMETERS | xargs -r -n 10 aws ssm delete-parameters --names',
    ]);
  });

  it('makes no snapshot of a task that neither migrates nor seeds', async () => {
    snapshotMissing();
    const generation = exampleGeneration('todo-postgres', {
      requiresMigrations: false,
      seedDataIncluded: false,
    });
    const task = buildTaskDefinition({
      previewId: 'prv-01jd4x',
      generation,
      tier: defaultTiers.pro,
      appImage: `${repository}:9d41c6e0`,
      databasePassword: 'throwaway-7Qm2',
    });

    await store().capture({ key, generationId: 'todo-postgres', task });

    expect(s3.calls()).toHaveLength(0);
    expect(codeBuild.calls()).toHaveLength(0);
  });
});
