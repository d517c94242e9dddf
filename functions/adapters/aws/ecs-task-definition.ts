import { createHash } from 'node:crypto';
import { taskLogStreamPrefix } from '../../core/log-streams.js';
import type {
  ContainerDefinition as EcsContainerDefinition,
  KeyValuePair,
  RegisterTaskDefinitionCommandInput,
  TaskOverride,
} from '@aws-sdk/client-ecs';
import { AppError } from '../../core/errors.js';
import type { ContainerDefinition, PreviewTaskDefinition } from '../../core/task-definition.js';
import type { EcsSettings } from './ecs-settings.js';

export type TaskDefinitionSettings = Pick<
  EcsSettings,
  'executionRoleArn' | 'taskRoleArn' | 'logGroup' | 'region' | 'cpuArchitecture'
>;

/** What RunTask needs: a definition shared by every preview of the same content, and this preview's part. */
export interface EcsTask {
  readonly registration: RegisterTaskDefinitionCommandInput;
  readonly overrides: TaskOverride;
}

/** ECS's limit on RunTask overrides, JSON formatting included. */
export const maxOverridesBytes = 8192;
/** Streams are `preview/<container>/<task id>`. */

/**
 * Values that differ between previews of the same content. They travel in RunTask overrides, so the
 * registered definition can be reused, and no secret is kept in a definition (definitions are readable
 * by anyone who may describe them and are never deleted).
 */
const perPreviewVariables: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'DATABASE_URL_ASYNC',
  'POSTGRES_PASSWORD',
  'PGPASSWORD',
  'MONGODB_URI',
  'MONGO_URL',
  'MONGO_INITDB_ROOT_PASSWORD',
]);

/**
 * Maps a preview task to ECS. The family is a hash of everything registered, so previews of the same
 * content (and settings) share one definition and a changed one gets a new family.
 */
export function ecsTask(task: PreviewTaskDefinition, settings: TaskDefinitionSettings): EcsTask {
  const definition: Omit<RegisterTaskDefinitionCommandInput, 'family'> = {
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(task.taskSize.cpu),
    memory: String(task.taskSize.memory),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: settings.cpuArchitecture },
    executionRoleArn: settings.executionRoleArn,
    taskRoleArn: settings.taskRoleArn,
    containerDefinitions: task.containers.map((container) => containerDefinition(container, settings)),
    // No host and no EFS: a bind mount on the task's ephemeral storage, gone with the task (Fargate
    // has no tmpfs). It belongs to root unless the image declares its path a VOLUME, whose contents
    // and mode are copied in: the image build adds `VOLUME /tmp` for the unprivileged app.
    volumes: task.volumes.map((volume) => ({ name: volume.name })),
    tags: [{ key: 'preview:managed', value: 'true' }],
  };
  const family = `preview-${createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16)}`;
  const overrides: TaskOverride = {
    containerOverrides: task.containers
      .map((container) => ({ name: container.name, environment: variables(container, true) }))
      .filter((override) => override.environment.length > 0),
  };
  const size = Buffer.byteLength(JSON.stringify(overrides));
  if (size > maxOverridesBytes) {
    throw new AppError(
      'payload_too_large',
      `The per-preview environment of preview ${task.previewId} takes ${size} bytes; ECS accepts ${maxOverridesBytes}.`,
    );
  }
  return { registration: { family, ...definition }, overrides };
}

function containerDefinition(
  container: ContainerDefinition,
  settings: TaskDefinitionSettings,
): EcsContainerDefinition {
  return {
    name: container.name,
    image: container.image,
    ...(container.command ? { command: [...container.command] } : {}),
    environment: variables(container, false),
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

/** The container's per-preview variables, or the others; sorted, so equal content hashes alike. */
function variables(container: ContainerDefinition, perPreview: boolean): KeyValuePair[] {
  return Object.entries(container.environment)
    .filter(([name]) => perPreviewVariables.has(name) === perPreview)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
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
