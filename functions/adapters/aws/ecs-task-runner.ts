import { createHash, randomUUID } from 'node:crypto';
import {
  ClientException,
  type Container,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type DesiredStatus,
  type ECSClient,
  ListTasksCommand,
  paginateListTasks,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { paginateGetParametersByPath, type SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '#core/clock.js';
import { AppError } from '#core/errors.js';
import type { RedactionLists } from '#core/log-ports.js';
import { secretsOf } from '#core/log-redaction.js';
import type { ContainerName, PreviewTaskDefinition } from '#core/task-definition.js';
import type {
  ContainerDescription,
  ContainerState,
  ContainerStats,
  Endpoint,
  RunningTask,
  TaskDescription,
  TaskRunner,
} from '#core/task-runner.js';
import type { EcsSettings } from '#core/config.js';
import {
  ecsTask,
  previewSecretsPath,
  type TaskSecret,
  type TaskDefinitionSettings,
} from './ecs-task-definition.js';
import { deleteParameters, writeSecureParameters } from './secure-parameters.js';

export type EcsRunnerSettings = TaskDefinitionSettings &
  Pick<EcsSettings, 'cluster' | 'subnets' | 'securityGroup' | 'secretsKeyId'> & {
    /** How long the preview log group keeps lines: redaction lists are kept as long. */
    readonly logRetentionDays: number;
  };

export interface EcsRunnerClients {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly redactions: RedactionLists;
  readonly clock: Clock;
}

/** DeleteParameters takes at most ten names. */
const dayMs = 86_400_000;

const containerOrder: readonly ContainerName[] = ['database', 'migrate', 'seed', 'app', 'bridge'];

/** Starts the reason of every stop the service asks for, so its own stops tell apart from an operator's. */
export const serviceStopReasonPrefix = 'preview-service:';

/**
 * Runs preview tasks on ECS Fargate. A preview's tasks are found by `startedBy`, which RunTask sets to
 * the preview id: ListTasks filters on it (tasks with desired status RUNNING first, then STOPPED ones,
 * which ECS lists for about an hour after they stop), so the runner needs no state of its own.
 * A preview's secrets live in SSM SecureString parameters under its own path, written before its task
 * runs and deleted when it stops or fails to start.
 */
export class EcsTaskRunner implements TaskRunner {
  readonly kind = 'ecs';
  readonly runWaitsForTask = false;
  /** Registered definitions never change: the app port of each is read once. */
  private readonly appPorts = new Map<string, number | undefined>();

  private readonly client: ECSClient;

  constructor(
    private readonly clients: EcsRunnerClients,
    private readonly settings: EcsRunnerSettings,
  ) {
    this.client = clients.ecs;
  }

  /**
   * Starts the task and resolves as soon as ECS has accepted it: ECS itself starts the containers in
   * dependency order. How far it got comes from `describe` (and ECS task state change events); the
   * endpoint appears there once the task runs.
   */
  async run(task: PreviewTaskDefinition): Promise<RunningTask> {
    const { registration, secrets } = ecsTask(task, this.settings);
    if ((await this.taskArns(task.previewId, 'RUNNING')).length > 0) {
      throw new AppError('conflict', `Preview ${task.previewId} has a task already; stop it first.`);
    }
    try {
      // Kept before anything can print them, for as long as the lines they could appear in.
      await this.clients.redactions.add(
        task.previewId,
        redactionList(task, secrets),
        new Date(this.clients.clock.now().getTime() + this.settings.logRetentionDays * dayMs),
      );
      await writeSecureParameters(this.clients.ssm, this.settings.secretsKeyId, secrets);
      return await this.runTask(task, registration);
    } catch (error) {
      // Best effort: stopping the preview deletes them again.
      await this.deleteSecrets(task.previewId).catch(() => undefined);
      throw error;
    }
  }

  private async runTask(
    task: PreviewTaskDefinition,
    registration: RegisterTaskDefinitionCommandInput,
  ): Promise<RunningTask> {
    const response = await this.client.send(
      new RunTaskCommand({
        cluster: this.settings.cluster,
        taskDefinition: await this.taskDefinitionArn(registration),
        launchType: 'FARGATE',
        count: 1,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: [...this.settings.subnets],
            securityGroups: [this.settings.securityGroup],
            assignPublicIp: 'DISABLED',
          },
        },
        tags: [{ key: 'preview:id', value: task.previewId }],
        enableECSManagedTags: true,
        propagateTags: 'TASK_DEFINITION',
        startedBy: startedBy(task.previewId),
        // One token per run, so a retried call never starts a second task. Not derived from the
        // preview: ECS replays a token's first answer for 24 hours, which would give a restarted
        // preview its stopped task.
        clientToken: randomUUID(),
      }),
    );
    const failure = response.failures?.[0];
    if (failure) {
      const detail = failure.detail ? ` (${failure.detail})` : '';
      throw new AppError(
        'unavailable',
        `ECS did not start the task of preview ${task.previewId}: ${failure.reason ?? 'no reason given'}${detail}.`,
        { reason: failure.reason, detail: failure.detail },
      );
    }
    const taskArn = response.tasks?.[0]?.taskArn;
    if (!taskArn) throw new AppError('internal', `ECS started no task for preview ${task.previewId}.`);
    return { taskId: taskArn, appHealthy: false };
  }

  /** Stops the preview's running tasks (their task-scoped volumes go with them) and deletes its secrets. */
  async stop(previewId: string): Promise<void> {
    const taskArns = await this.taskArns(previewId, 'RUNNING');
    await Promise.all(
      taskArns.map((taskArn) =>
        this.client.send(
          new StopTaskCommand({
            cluster: this.settings.cluster,
            task: taskArn,
            reason: `${serviceStopReasonPrefix} preview ${previewId} stopped`,
          }),
        ),
      ),
    );
    await this.deleteSecrets(previewId);
  }

  /** Every parameter under the preview's path, whatever launch wrote it. */
  private async deleteSecrets(previewId: string): Promise<void> {
    const names: string[] = [];
    const pages = paginateGetParametersByPath(
      { client: this.clients.ssm },
      {
        Path: previewSecretsPath(this.settings.secretsPath, previewId),
        Recursive: true,
        WithDecryption: false,
      },
    );
    for await (const page of pages) {
      names.push(...(page.Parameters ?? []).flatMap((parameter) => (parameter.Name ? [parameter.Name] : [])));
    }
    await deleteParameters(this.clients.ssm, names);
  }

  /** Previews with a running task: every running task of the cluster, by its `startedBy`. */
  async list(): Promise<string[]> {
    const previewIds = new Set<string>();
    const pages = paginateListTasks(
      { client: this.client },
      { cluster: this.settings.cluster, desiredStatus: 'RUNNING' },
    );
    for await (const page of pages) {
      const taskArns = page.taskArns ?? [];
      if (taskArns.length === 0) continue;
      const { tasks = [] } = await this.client.send(
        new DescribeTasksCommand({ cluster: this.settings.cluster, tasks: taskArns }),
      );
      for (const task of tasks) if (task.startedBy) previewIds.add(task.startedBy);
    }
    return [...previewIds];
  }

  async describe(previewId: string): Promise<TaskDescription | undefined> {
    const task = await this.latestTask(previewId);
    if (!task) return undefined;
    const containers = (task.containers ?? []).map(describeContainer);
    containers.sort((a, b) => containerOrder.indexOf(a.name) - containerOrder.indexOf(b.name));
    return {
      previewId,
      taskId: task.taskArn ?? '',
      containers,
      endpoint: await this.endpointOf(task),
      ...(stoppedByOperator(task) ? { stoppedByOperator: true } : {}),
    };
  }

  /** Resource use in AWS comes from Container Insights (CloudWatch metrics per task), not from ECS calls. */
  async stats(): Promise<ContainerStats | undefined> {
    return undefined;
  }

  /** The definition registered for this content, registered now if no active revision exists. */
  private async taskDefinitionArn(registration: RegisterTaskDefinitionCommandInput): Promise<string> {
    try {
      const { taskDefinition } = await this.client.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: registration.family }),
      );
      if (taskDefinition?.taskDefinitionArn) return taskDefinition.taskDefinitionArn;
    } catch (error) {
      // How ECS answers for a family with no active revision.
      if (!(error instanceof ClientException)) throw error;
    }
    const { taskDefinition } = await this.client.send(new RegisterTaskDefinitionCommand(registration));
    if (!taskDefinition?.taskDefinitionArn) {
      throw new AppError('internal', `ECS registered no task definition for ${registration.family}.`);
    }
    return taskDefinition.taskDefinitionArn;
  }

  /** A preview has a handful of tasks at most: one page (up to 100) holds them. */
  private async taskArns(previewId: string, desiredStatus: DesiredStatus): Promise<string[]> {
    const { taskArns = [] } = await this.client.send(
      new ListTasksCommand({
        cluster: this.settings.cluster,
        startedBy: startedBy(previewId),
        desiredStatus,
      }),
    );
    return taskArns;
  }

  /** The preview's newest running task, else its newest stopped one. */
  private async latestTask(previewId: string): Promise<Task | undefined> {
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      const taskArns = await this.taskArns(previewId, desiredStatus);
      if (taskArns.length === 0) continue;
      const { tasks = [] } = await this.client.send(
        new DescribeTasksCommand({ cluster: this.settings.cluster, tasks: taskArns }),
      );
      const created = (t: Task) => t.createdAt?.getTime() ?? 0;
      const [newest] = tasks.sort((a, b) => created(b) - created(a));
      if (newest) return newest;
    }
    return undefined;
  }

  /** The task's private address (its network interface) and the app's port, once the task runs. */
  private async endpointOf(task: Task): Promise<Endpoint | undefined> {
    if (task.lastStatus !== 'RUNNING' || !task.taskDefinitionArn) return undefined;
    const host = task.attachments
      ?.find((a) => a.type === 'ElasticNetworkInterface')
      ?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    const port = await this.appPort(task.taskDefinitionArn);
    return host && port ? { host, port } : undefined;
  }

  private async appPort(taskDefinitionArn: string): Promise<number | undefined> {
    if (!this.appPorts.has(taskDefinitionArn)) {
      const { taskDefinition } = await this.client.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }),
      );
      const app = taskDefinition?.containerDefinitions?.find((c) => c.name === 'app');
      this.appPorts.set(taskDefinitionArn, app?.portMappings?.[0]?.containerPort);
    }
    return this.appPorts.get(taskDefinitionArn);
  }
}

/** What the task's lines must not show: its secret values and what they reveal (a URL's password). */
function redactionList(task: PreviewTaskDefinition, secrets: readonly TaskSecret[]): string[] {
  const environments = task.containers.map((container) => container.environment);
  return [...new Set([...secrets.map((secret) => secret.value), ...environments.flatMap(secretsOf)])];
}

/**
 * RunTask's `startedBy`: up to 36 letters, digits, `-`, `/` and `_`. Preview ids fit as they are;
 * anything else is replaced by a hash of the same length.
 */
export function startedBy(previewId: string): string {
  if (/^[\w/-]{1,36}$/.test(previewId)) return previewId;
  return `preview-${createHash('sha256').update(previewId).digest('hex').slice(0, 28)}`;
}

/**
 * ECS says `UserInitiated` for every StopTask call, the service's own too: those carry the service's
 * reason prefix, an operator's (`aws ecs stop-task`, the console) do not.
 */
function stoppedByOperator(task: Task): boolean {
  return task.stopCode === 'UserInitiated' && !task.stoppedReason?.startsWith(serviceStopReasonPrefix);
}

/** DescribeTasks has no per-container times: only state, health, exit code and stop reason. */
function describeContainer(container: Container): ContainerDescription {
  const exited = container.lastStatus === 'STOPPED';
  return {
    name: container.name as ContainerName,
    state: containerState(container),
    ...(exited && container.exitCode !== undefined ? { exitCode: container.exitCode } : {}),
    // ECS reports a kernel OOM kill as "OutOfMemoryError: Container killed due to memory usage".
    oomKilled: container.reason?.includes('OutOfMemoryError') ?? false,
  };
}

function containerState(container: Container): ContainerState {
  switch (container.lastStatus) {
    case 'RUNNING':
      if (container.healthStatus === 'HEALTHY') return 'healthy';
      if (container.healthStatus === 'UNHEALTHY') return 'unhealthy';
      return 'running';
    case 'STOPPED':
      return 'exited';
    default:
      return 'pending';
  }
}
