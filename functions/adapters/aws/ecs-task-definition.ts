import { createHash } from 'node:crypto';
import { taskLogStreamPrefix } from '#core/log-streams.js';
import type {
  ContainerDefinition as EcsContainerDefinition,
  RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { AppError } from '#core/errors.js';
import { isSecretName } from '#core/log-redaction.js';
import type { ContainerDefinition, PreviewTaskDefinition } from '#core/task-definition.js';
import type { EcsSettings } from '#core/config.js';

export type TaskDefinitionSettings = Pick<
  EcsSettings,
  'executionRoleArn' | 'taskRoleArn' | 'logGroup' | 'region' | 'cpuArchitecture' | 'secretsPath'
>;

/** A value a task gets through `secrets`: an SSM SecureString parameter of the preview. */
export interface TaskSecret {
  readonly parameterName: string;
  readonly value: string;
}

/** What RunTask needs: the definition to register (unless already there) and the preview's secrets. */
export interface EcsTask {
  readonly registration: RegisterTaskDefinitionCommandInput;
  /** Written before the task runs, deleted with the preview. */
  readonly secrets: readonly TaskSecret[];
}

/** Fargate's ephemeral storage: 20 GiB unless the definition asks for 21-200. */
const defaultEphemeralGiB = 20;
const maxEphemeralGiB = 200;
/** Room for the image layers, which share the task's ephemeral storage with its volumes. */
const imageHeadroomGiB = 5;

/** The ephemeral storage a tier's allowance needs, when Fargate's default is not enough. */
export function ephemeralStorageGiB(storageGb: number): number | undefined {
  const needed = Math.ceil(storageGb) + imageHeadroomGiB;
  return needed <= defaultEphemeralGiB ? undefined : Math.min(maxEphemeralGiB, needed);
}

/** The largest value a standard SSM parameter holds. */
export const maxSecretBytes = 4096;

/**
 * Variables a task gets as `secrets`, never as plain environment: definitions are readable by anyone
 * who may describe them and are kept after deregistration, RunTask overrides by anyone who may
 * describe the task. The per-preview database credentials, and every variable named like a secret.
 */
const databaseCredentials: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'DATABASE_URL_ASYNC',
  'POSTGRES_PASSWORD',
  'PGPASSWORD',
  'MONGODB_URI',
  'MONGO_URL',
  'MONGO_INITDB_ROOT_PASSWORD',
]);

/** A variable that goes to SSM, never into a definition or a build's plain variables. */
export function isSecretVariable(name: string, value: string): boolean {
  // SSM holds no empty value, and an empty one reveals nothing.
  return value !== '' && (databaseCredentials.has(name) || isSecretName(name));
}

/** `<secrets path>/<preview id>`: every parameter of a preview, found and deleted by this prefix. */
export function previewSecretsPath(secretsPath: string, previewId: string): string {
  return `${secretsPath}/${previewId}`;
}

/**
 * Maps a preview task to ECS. The family is a hash of everything registered, so previews of the same
 * content (and settings) without secrets share one definition; a preview with secrets names its own
 * parameters, so its definition is its own.
 */
export function ecsTask(task: PreviewTaskDefinition, settings: TaskDefinitionSettings): EcsTask {
  const { secrets, references } = secretParameters(task, settings.secretsPath);
  const ephemeral = ephemeralStorageGiB(task.storageGb);
  const definition: Omit<RegisterTaskDefinitionCommandInput, 'family'> = {
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(task.taskSize.cpu),
    memory: String(task.taskSize.memory),
    ...(ephemeral === undefined ? {} : { ephemeralStorage: { sizeInGiB: ephemeral } }),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: settings.cpuArchitecture },
    executionRoleArn: settings.executionRoleArn,
    taskRoleArn: settings.taskRoleArn,
    containerDefinitions: task.containers.map((container) =>
      containerDefinition(container, settings, references.get(container.name) ?? new Map()),
    ),
    // No host and no EFS: a bind mount on the task's ephemeral storage, gone with the task (Fargate
    // has no tmpfs). It belongs to root unless the image declares its path a VOLUME, whose contents
    // and mode are copied in: the image build adds `VOLUME /tmp` for the unprivileged app.
    volumes: task.volumes.map((volume) => ({ name: volume.name })),
    tags: [{ key: 'preview:managed', value: 'true' }],
  };
  const family = `preview-${createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16)}`;
  for (const secret of secrets) {
    const size = Buffer.byteLength(secret.value);
    if (size > maxSecretBytes) {
      throw new AppError(
        'payload_too_large',
        `A secret of preview ${task.previewId} (${secret.parameterName.split('/').pop()}) takes ${size} bytes; at most ${maxSecretBytes} are accepted.`,
      );
    }
  }
  return { registration: { family, ...definition }, secrets };
}

/** Where each container's secret variables come from: parameter names by container and variable. */
type SecretReferences = Map<string, Map<string, string>>;

/**
 * One parameter per secret variable and value, shared by the containers that have the same (the app
 * and its one-shot helpers); a container whose variable of that name differs gets its own.
 */
function secretParameters(
  task: PreviewTaskDefinition,
  secretsPath: string,
): { secrets: TaskSecret[]; references: SecretReferences } {
  const values = new Map<string, string>();
  /** `<name>\n<value>` → its parameter: containers with the same variable share one. */
  const assigned = new Map<string, string>();
  const references: SecretReferences = new Map();
  const prefix = previewSecretsPath(secretsPath, task.previewId);
  for (const container of task.containers) {
    const own = new Map<string, string>();
    for (const [name, value] of Object.entries(container.environment)) {
      if (!isSecretVariable(name, value)) continue;
      const key = `${name}\n${value}`;
      const shared = `${prefix}/${name}`;
      const parameterName =
        assigned.get(key) ?? (values.has(shared) ? `${prefix}/${container.name}/${name}` : shared);
      assigned.set(key, parameterName);
      values.set(parameterName, value);
      own.set(name, parameterName);
    }
    references.set(container.name, own);
  }
  const secrets = [...values].map(([parameterName, value]) => ({ parameterName, value }));
  return { secrets, references };
}

function containerDefinition(
  container: ContainerDefinition,
  settings: TaskDefinitionSettings,
  secretParameterNames: ReadonlyMap<string, string>,
): EcsContainerDefinition {
  const variables = sortedEntries(container.environment);
  const secrets = variables.filter(([name, value]) => isSecretVariable(name, value));
  return {
    name: container.name,
    image: container.image,
    ...(container.command ? { command: [...container.command] } : {}),
    environment: variables
      .filter(([name, value]) => !isSecretVariable(name, value))
      .map(([name, value]) => ({ name, value })),
    ...(secrets.length > 0
      ? {
          secrets: secrets.map(([name]) => ({ name, valueFrom: secretParameterNames.get(name) ?? '' })),
        }
      : {}),
    essential: container.essential,
    memory: container.memoryMb,
    cpu: container.cpuUnits,
    // Fargate has no pids limit; RLIMIT_NPROC (per user, in the task's own VM) is the nearest guard
    // against a fork bomb. Root is exempt from it, and no preview container runs as root.
    ulimits: [{ name: 'nproc', softLimit: container.pidsLimit, hardLimit: container.pidsLimit }],
    linuxParameters: { initProcessEnabled: true, capabilities: { drop: ['ALL'] } },
    readonlyRootFilesystem: container.readonlyRootFilesystem,
    ...(container.user ? { user: container.user } : {}),
    portMappings: [...container.portMappings],
    mountPoints: [...container.mountPoints],
    dependsOn: [...container.dependsOn],
    ...(container.healthCheck
      ? {
          healthCheck: {
            command: [...container.healthCheck.command],
            interval: container.healthCheck.intervalSeconds,
            timeout: container.healthCheck.timeoutSeconds,
            retries: container.healthCheck.retries,
            startPeriod: container.healthCheck.startPeriodSeconds,
          },
        }
      : {}),
    logConfiguration: {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': settings.logGroup,
        'awslogs-region': settings.region,
        'awslogs-stream-prefix': taskLogStreamPrefix,
        // A slow log service must not stall the app: drop lines past the buffer instead.
        mode: 'non-blocking',
        'max-buffer-size': '4m',
      },
    },
  };
}

/** Sorted, so equal content hashes alike. */
function sortedEntries(environment: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** JSON with object keys sorted at every level: the same definition always gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
