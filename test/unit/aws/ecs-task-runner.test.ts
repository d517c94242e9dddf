import {
  ClientException,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type DescribeTasksCommandOutput,
  type RunTaskCommandOutput,
} from '@aws-sdk/client-ecs';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ecsTask } from '#adapters/aws/ecs-task-definition.js';
import { EcsTaskRunner, startedBy } from '#adapters/aws/ecs-task-runner.js';
import { AppError } from '#core/errors.js';
import type { RedactionLists } from '#core/log-ports.js';
import { buildTaskDefinition } from '#core/task-definition.js';
import { defaultTiers } from '#core/tiers.js';
import { awsFixture, exampleGeneration, settings } from './aws-fixtures.js';

const previewId = 'preview_0mjv1k2a83f9c2e1d4b5a6f70';
const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/previews/5b6c2f0e7a3d4e1f9a8b7c6d5e4f3a2b';
const definitionArn = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/preview-4f1c2b9a7d3e5a60:1';
const stoppedArn = 'arn:aws:ecs:eu-west-1:123456789012:task/previews/9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f';

const ecs = mockClient(ECSClient);
const ssm = mockClient(SSMClient);
const secretsPath = `/preview-service/test/secrets/${previewId}`;
const now = new Date('2026-12-02T10:00:00.000Z');

/** What the runner asked to keep: the DynamoDB store itself is tested against dynalite. */
let kept: { previewId: string; secrets: readonly string[]; keepUntil: Date }[] = [];
const redactions: RedactionLists = {
  add: async (id, secrets, keepUntil) => {
    kept.push({ previewId: id, secrets, keepUntil });
  },
  secrets: async () => [],
};
const runner = () =>
  new EcsTaskRunner(
    { ecs: new ECSClient({}), ssm: new SSMClient({}), redactions, clock: { now: () => now } },
    { ...settings, logRetentionDays: 7 },
  );

const task = buildTaskDefinition({
  previewId,
  generation: exampleGeneration('todo-postgres'),
  tier: defaultTiers.free,
  appImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app:3f5d',
  databasePassword: 'pa55-word_x',
});
const { registration } = ecsTask(task, settings);
const databaseUrl = 'postgresql://preview:pa55-word_x@127.0.0.1:5432/preview';
const asyncDatabaseUrl = 'postgresql+asyncpg://preview:pa55-word_x@127.0.0.1:5432/preview';

const notRegistered = new ClientException({ message: 'Unable to describe task definition.', $metadata: {} });

function listTasks(running: string[], stopped: string[] = []) {
  ecs
    .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
    .resolves({ taskArns: running })
    .on(ListTasksCommand, { desiredStatus: 'STOPPED' })
    .resolves({ taskArns: stopped });
}

const inputs = <T>(command: Parameters<typeof ecs.commandCalls>[0]) =>
  ecs.commandCalls(command).map((call) => call.args[0].input as T);
const ssmInputs = (command: Parameters<typeof ssm.commandCalls>[0]) =>
  ssm.commandCalls(command).map((call) => call.args[0].input as unknown);

/** The parameters SSM holds under the preview's path. */
function storedParameters(names: string[]) {
  ssm.on(GetParametersByPathCommand).resolves({ Parameters: names.map((Name) => ({ Name })) });
  ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: names });
}

beforeEach(() => {
  ecs.reset();
  ssm.reset();
  ssm.on(PutParameterCommand).resolves({ Version: 1 });
  storedParameters([]);
  kept = [];
});

describe('EcsTaskRunner.run', () => {
  it('registers the definition once for new content, then runs it on Fargate in the private subnets', async () => {
    listTasks([]);
    ecs.on(DescribeTaskDefinitionCommand).rejects(notRegistered);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: definitionArn } });
    ecs.on(RunTaskCommand).resolves(awsFixture<RunTaskCommandOutput>('run-task'));

    await expect(runner().run(task)).resolves.toEqual({ taskId: taskArn, appHealthy: false });

    expect(inputs(ListTasksCommand)).toEqual([
      { cluster: 'previews', startedBy: previewId, desiredStatus: 'RUNNING' },
    ]);
    expect(inputs(DescribeTaskDefinitionCommand)).toEqual([{ taskDefinition: registration.family }]);
    expect(inputs(RegisterTaskDefinitionCommand)).toEqual([registration]);
    expect(JSON.stringify(inputs(RegisterTaskDefinitionCommand))).not.toContain('pa55-word_x');
    const keyId = 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const secureString = { Type: 'SecureString', KeyId: keyId, Tier: 'Standard', Overwrite: true };
    expect(ssmInputs(PutParameterCommand)).toEqual([
      { Name: `${secretsPath}/POSTGRES_PASSWORD`, Value: 'pa55-word_x', ...secureString },
      { Name: `${secretsPath}/DATABASE_URL`, Value: databaseUrl, ...secureString },
      { Name: `${secretsPath}/DATABASE_URL_ASYNC`, Value: asyncDatabaseUrl, ...secureString },
      { Name: `${secretsPath}/PGPASSWORD`, Value: 'pa55-word_x', ...secureString },
    ]);
    expect(kept).toEqual([
      {
        previewId,
        secrets: ['pa55-word_x', databaseUrl, asyncDatabaseUrl],
        keepUntil: new Date('2026-12-09T10:00:00.000Z'),
      },
    ]);
    expect(inputs(RunTaskCommand)).toEqual([
      {
        cluster: 'previews',
        taskDefinition: definitionArn,
        launchType: 'FARGATE',
        count: 1,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
            securityGroups: ['sg-0123456789abcdef0'],
            assignPublicIp: 'DISABLED',
          },
        },
        tags: [{ key: 'preview:id', value: previewId }],
        enableECSManagedTags: true,
        propagateTags: 'TASK_DEFINITION',
        startedBy: previewId,
        clientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ]);
  });

  it('reuses the registered definition of the same content', async () => {
    listTasks([]);
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { ...registration, taskDefinitionArn: definitionArn, status: 'ACTIVE', revision: 1 },
    });
    ecs.on(RunTaskCommand).resolves(awsFixture<RunTaskCommandOutput>('run-task'));

    await runner().run(task);

    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(inputs<{ taskDefinition: string }>(RunTaskCommand)[0]?.taskDefinition).toBe(definitionArn);
  });

  it('uses a new client token for every run', async () => {
    listTasks([]);
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: definitionArn } });
    ecs.on(RunTaskCommand).resolves(awsFixture<RunTaskCommandOutput>('run-task'));

    await runner().run(task);
    await runner().run(task);

    const [first, second] = inputs<{ clientToken: string }>(RunTaskCommand);
    expect(first?.clientToken).not.toBe(second?.clientToken);
  });

  it('says why ECS did not place the task, and deletes the secrets it wrote', async () => {
    listTasks([]);
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: definitionArn } });
    ecs.on(RunTaskCommand).resolves(awsFixture<RunTaskCommandOutput>('run-task-failure'));
    storedParameters([`${secretsPath}/POSTGRES_PASSWORD`, `${secretsPath}/DATABASE_URL`]);

    const error = await runner()
      .run(task)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'unavailable',
      message: `ECS did not start the task of preview ${previewId}: Capacity is unavailable at this time. Please try again later or in a different availability zone.`,
      details: {
        reason:
          'Capacity is unavailable at this time. Please try again later or in a different availability zone',
      },
    });
    expect(ssmInputs(GetParametersByPathCommand)).toEqual([
      { Path: secretsPath, Recursive: true, WithDecryption: false, NextToken: undefined },
    ]);
    expect(ssmInputs(DeleteParametersCommand)).toEqual([
      { Names: [`${secretsPath}/POSTGRES_PASSWORD`, `${secretsPath}/DATABASE_URL`] },
    ]);
  });

  it('deletes the secrets when registering the definition fails, and reports that failure', async () => {
    listTasks([]);
    ecs.on(DescribeTaskDefinitionCommand).rejects(notRegistered);
    ecs.on(RegisterTaskDefinitionCommand).rejects(new Error('Too many concurrent attempts'));
    storedParameters([`${secretsPath}/DATABASE_URL`]);

    await expect(runner().run(task)).rejects.toThrow('Too many concurrent attempts');
    expect(ssmInputs(DeleteParametersCommand)).toEqual([{ Names: [`${secretsPath}/DATABASE_URL`] }]);
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  });

  it('refuses a second task for a preview that has one running', async () => {
    listTasks([taskArn]);

    await expect(runner().run(task)).rejects.toMatchObject({ code: 'conflict' });
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
    // The running task's secrets stay.
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('EcsTaskRunner.describe', () => {
  it('maps a running task: containers in start order, health, and the app endpoint on the task ENI', async () => {
    listTasks([taskArn]);
    ecs.on(DescribeTasksCommand).resolves(awsFixture<DescribeTasksCommandOutput>('describe-tasks-running'));
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...registration } });

    const description = await runner().describe(previewId);

    expect(description).toEqual({
      previewId,
      taskId: taskArn,
      containers: [
        { name: 'database', state: 'healthy', oomKilled: false },
        { name: 'migrate', state: 'exited', exitCode: 0, oomKilled: false },
        { name: 'seed', state: 'exited', exitCode: 0, oomKilled: false },
        { name: 'app', state: 'healthy', oomKilled: false },
      ],
      endpoint: { host: '10.0.12.34', port: 8000 },
    });
    expect(inputs(DescribeTasksCommand)).toEqual([{ cluster: 'previews', tasks: [taskArn] }]);
    expect(inputs(DescribeTaskDefinitionCommand)).toEqual([{ taskDefinition: definitionArn }]);
  });

  it('reads the app port of a definition once', async () => {
    listTasks([taskArn]);
    ecs.on(DescribeTasksCommand).resolves(awsFixture<DescribeTasksCommandOutput>('describe-tasks-running'));
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...registration } });
    const shared = runner();

    await shared.describe(previewId);
    await shared.describe(previewId);

    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
  });

  it('falls back to the stopped task and reports an out-of-memory kill', async () => {
    listTasks([], [stoppedArn]);
    ecs.on(DescribeTasksCommand).resolves(awsFixture<DescribeTasksCommandOutput>('describe-tasks-oom'));

    const description = await runner().describe(previewId);

    expect(description).toEqual({
      previewId,
      taskId: stoppedArn,
      containers: [{ name: 'app', state: 'exited', exitCode: 137, oomKilled: true }],
      endpoint: undefined,
    });
    expect(inputs(ListTasksCommand)).toEqual([
      { cluster: 'previews', startedBy: previewId, desiredStatus: 'RUNNING' },
      { cluster: 'previews', startedBy: previewId, desiredStatus: 'STOPPED' },
    ]);
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });

  it('describes the newest of several stopped tasks', async () => {
    const running = awsFixture<DescribeTasksCommandOutput>('describe-tasks-running').tasks![0]!;
    const stopped = awsFixture<DescribeTasksCommandOutput>('describe-tasks-oom').tasks![0]!;
    const older = { ...running, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' };
    listTasks([], [taskArn, stoppedArn]);
    ecs.on(DescribeTasksCommand).resolves({ tasks: [older, stopped], failures: [] });

    expect((await runner().describe(previewId))?.taskId).toBe(stoppedArn);
  });

  it("tells an operator's stop (aws ecs stop-task) from the service's own and from an app's exit", async () => {
    const oom = awsFixture<DescribeTasksCommandOutput>('describe-tasks-oom').tasks![0]!;
    const stoppedBy = async (stop: {
      stopCode?: 'UserInitiated' | 'EssentialContainerExited';
      stoppedReason?: string;
    }) => {
      ecs.reset();
      listTasks([], [stoppedArn]);
      ecs.on(DescribeTasksCommand).resolves({ tasks: [{ ...oom, ...stop }] });
      return (await runner().describe(previewId))?.stoppedByOperator;
    };

    expect(await stoppedBy({ stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' })).toBe(true);
    expect(await stoppedBy({ stopCode: 'UserInitiated', stoppedReason: 'draining for a deploy' })).toBe(true);
    expect(await stoppedBy({ stopCode: 'UserInitiated' })).toBe(true);
    expect(
      await stoppedBy({
        stopCode: 'UserInitiated',
        stoppedReason: `preview-service: preview ${previewId} stopped`,
      }),
    ).toBeUndefined();
    expect(
      await stoppedBy({
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
      }),
    ).toBeUndefined();
  });

  it('knows nothing of a preview without tasks', async () => {
    listTasks([], []);

    await expect(runner().describe(previewId)).resolves.toBeUndefined();
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('reports a starting container as pending and an unhealthy one as unhealthy, with no endpoint yet', async () => {
    const fixture = awsFixture<DescribeTasksCommandOutput>('describe-tasks-running');
    const [app, , , database] = fixture.tasks![0]!.containers!;
    listTasks([taskArn]);
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          ...fixture.tasks![0],
          lastStatus: 'PENDING',
          containers: [
            { ...app, lastStatus: 'PENDING', healthStatus: 'UNKNOWN' },
            { ...database, healthStatus: 'UNHEALTHY' },
          ],
        },
      ],
    });

    expect(await runner().describe(previewId)).toEqual({
      previewId,
      taskId: taskArn,
      containers: [
        { name: 'database', state: 'unhealthy', oomKilled: false },
        { name: 'app', state: 'pending', oomKilled: false },
      ],
      endpoint: undefined,
    });
  });
});

describe('EcsTaskRunner.stop', () => {
  it('stops the running task with a reason and deletes every secret of the preview, ten at a time', async () => {
    listTasks([taskArn]);
    ecs.on(StopTaskCommand).resolves({});
    const names = Array.from({ length: 12 }, (_, n) => `${secretsPath}/VARIABLE_${n}`);
    ssm
      .on(GetParametersByPathCommand, { NextToken: undefined })
      .resolves({ Parameters: names.slice(0, 7).map((Name) => ({ Name })), NextToken: 'next' })
      .on(GetParametersByPathCommand, { NextToken: 'next' })
      .resolves({ Parameters: names.slice(7).map((Name) => ({ Name })) });

    await runner().stop(previewId);

    expect(inputs(StopTaskCommand)).toEqual([
      { cluster: 'previews', task: taskArn, reason: `preview-service: preview ${previewId} stopped` },
    ]);
    // Two pages, each served by the token it was asked with (the matchers above); the recorded
    // inputs are one object the paginator updates, so they all show its last token.
    expect(ssmInputs(GetParametersByPathCommand)).toEqual([
      { Path: secretsPath, Recursive: true, WithDecryption: false, NextToken: 'next' },
      { Path: secretsPath, Recursive: true, WithDecryption: false, NextToken: 'next' },
    ]);
    expect(ssmInputs(DeleteParametersCommand)).toEqual([
      { Names: names.slice(0, 10) },
      { Names: names.slice(10) },
    ]);
  });

  it('does nothing when the preview has no running task', async () => {
    listTasks([]);

    await runner().stop(previewId);
    await runner().stop(previewId);

    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);
  });
});

describe('EcsTaskRunner.stats', () => {
  it('leaves resource metrics to Container Insights', async () => {
    await expect(runner().stats()).resolves.toBeUndefined();
    expect(ecs.calls()).toHaveLength(0);
  });
});

describe('startedBy', () => {
  it('keeps preview ids and hashes anything RunTask would refuse', () => {
    expect(startedBy(previewId)).toBe(previewId);
    const long = startedBy(`preview_${'a'.repeat(40)}`);
    expect(long).toMatch(/^preview-[0-9a-f]{28}$/);
    expect(long).toHaveLength(36);
    expect(startedBy('preview with spaces')).toMatch(/^preview-[0-9a-f]{28}$/);
    expect(startedBy('preview with spaces')).not.toBe(long);
  });
});
