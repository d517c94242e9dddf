import { bindEntryPoint, listenEnvironment } from './app-binding.js';
import { cpuUnits, fargateTaskSize, type TaskSize } from './fargate.js';
import type { DatabaseType, Generation } from './generation.js';
import { loopbackBridgeScript } from './loopback-bridge.js';
import type { Tier } from './tiers.js';

/**
 * One preview task, shaped like an ECS task definition (awsvpc: the containers share localhost)
 * so it maps field for field to `RegisterTaskDefinition`, and to Docker locally.
 */

export type ContainerName = 'database' | 'migrate' | 'seed' | 'app' | 'bridge';
export type DependencyCondition = 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY';

export interface HealthCheck {
  /** ECS/Docker form: `['CMD', exe, ...args]` or `['CMD-SHELL', script]`. */
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly startPeriodSeconds: number;
  /**
   * The same check as an HTTP GET of this path on the container's first port, for a runtime that
   * reaches that port from outside (any HTTP answer passes, as the command does): much cheaper than
   * running the command, so it can be asked every few milliseconds while the container starts.
   */
  readonly httpPath?: string;
}

export interface ContainerDependency {
  readonly containerName: ContainerName;
  readonly condition: DependencyCondition;
}

export interface PortMapping {
  readonly containerPort: number;
  readonly protocol: 'tcp';
}

export interface MountPoint {
  readonly sourceVolume: string;
  readonly containerPath: string;
  readonly readOnly: boolean;
}

/** A task-scoped volume: it lives and dies with the task. */
export interface TaskVolume {
  readonly name: string;
}

export interface ContainerDefinition {
  readonly name: ContainerName;
  readonly image: string;
  /** Replaces the image's CMD; the image's ENTRYPOINT stays. */
  readonly command?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** When an essential container stops, the task stops. */
  readonly essential: boolean;
  /** Hard memory limit, MiB. */
  readonly memoryMb: number;
  /** CPU units (1024 = one core); 0: no reservation of its own, a share of the task's CPU. */
  readonly cpuUnits: number;
  readonly pidsLimit: number;
  readonly portMappings: readonly PortMapping[];
  readonly healthCheck?: HealthCheck;
  readonly dependsOn: readonly ContainerDependency[];
  readonly readonlyRootFilesystem: boolean;
  /** `uid:gid`; the image's user when absent. */
  readonly user?: string;
  readonly mountPoints: readonly MountPoint[];
  /**
   * Where the container keeps data in its own writable layer, on no volume (a database started from
   * a snapshot image): the task's storage counts it as it counts the volumes.
   */
  readonly layerDataPath?: string;
}

/**
 * How a snapshot's data reaches its database. `layer`: the database runs on the data where the
 * image holds it, its writes in its container's copy-on-write layer, so nothing is copied before it
 * starts (Docker). `volume`: the task's database volume is mounted on the data path and starts as a
 * copy of it (Fargate, whose ephemeral storage takes the image's `VOLUME` content).
 */
export type SnapshotRestore = 'layer' | 'volume';

export interface PreviewTaskDefinition {
  readonly family: string;
  readonly previewId: string;
  /** A valid Fargate size covering the sum of the containers' limits. */
  readonly taskSize: TaskSize;
  /** In start order: every container comes after the containers it depends on. */
  readonly containers: readonly ContainerDefinition[];
  readonly volumes: readonly TaskVolume[];
  /** The tier's storage allowance for the task's volumes, GB (measured and enforced by the sampler). */
  readonly storageGb: number;
}

export interface TaskDefinitionInput {
  readonly previewId: string;
  readonly generation: Generation;
  readonly tier: Tier;
  readonly appImage: string;
  readonly databasePassword: string;
  /** Overrides of the database images, e.g. a registry mirror in AWS. */
  readonly databaseImages?: Partial<Record<'postgresql' | 'mongodb', string>>;
  /**
   * A PostgreSQL database migrated and seeded before: its image starts with the data in place (in
   * its container's layer, or copied into the task's database volume, as the snapshot says), and no
   * migrate or seed container runs.
   */
  readonly databaseSnapshot?: {
    readonly image: string;
    readonly dataPath: string;
    readonly restoredOn: SnapshotRestore;
  };
}

export const defaultDatabaseImages = { postgresql: 'postgres:15', mongodb: 'mongo:7' } as const;

const databaseUser = 'preview';
const databaseName = 'preview';
/**
 * Fixed, modest limits for the helpers; the tier's limits are the app's alone. Half a core keeps
 * a database's first start and the migrations quick (both are CPU-bound), and with all three
 * helpers the Fargate size of every default tier is the same either way.
 */
const databaseLimits = { memoryMb: 256, cpuUnits: 512 };
const oneShotLimits = { memoryMb: 256, cpuUnits: 512 };
/**
 * The bridge idles at about 6 MiB; it reserves no CPU of its own. Small enough that every default
 * tier's Fargate size stays what it is without it.
 */
const bridgeLimits = { memoryMb: 64, cpuUnits: 0 };
/** The database sidecar's port in the task: not the app's, whatever the app's port is. */
export const databasePorts: Readonly<Record<DatabaseType, number | undefined>> = {
  postgresql: 5432,
  mongodb: 27017,
  sqlite: undefined,
  none: undefined,
};
const pidsLimit = 256;
/** `nobody`: the generated code never runs as root. */
const unprivilegedUser = '65534:65534';
/** The uid/gid of the postgres and mongodb users in their official images. */
const databaseImageUser = '999:999';

const scratchVolume = 'scratch';
const databaseVolume = 'database-data';
/** Writable and shared by migrate, seed and app (a SQLite file written by migrate is read by app). */
const scratchMount: MountPoint = { sourceVolume: scratchVolume, containerPath: '/tmp', readOnly: false };

export function buildTaskDefinition(input: TaskDefinitionInput): PreviewTaskDefinition {
  const { generation } = input;
  const database = databaseContainer(input);
  const environment = appEnvironment(input);
  const oneShots: ContainerDefinition[] = [];
  let ready: ContainerDependency[] = database ? [{ containerName: 'database', condition: 'HEALTHY' }] : [];

  const restored = database !== undefined && input.databaseSnapshot !== undefined;
  for (const [name, command] of [
    ['migrate', generation.requiresMigrations && !restored ? generation.migrationCommand : undefined],
    ['seed', generation.seedDataIncluded && !restored ? generation.seedCommand : undefined],
  ] as const) {
    if (command === undefined) continue;
    oneShots.push({
      ...appLikeContainer(input.appImage, environment),
      name,
      command: ['sh', '-c', command],
      essential: false,
      ...oneShotLimits,
      portMappings: [],
      dependsOn: ready,
    });
    ready = [{ containerName: name, condition: 'SUCCESS' }];
  }

  const app: ContainerDefinition = {
    ...appLikeContainer(input.appImage, environment),
    name: 'app',
    command: ['sh', '-c', bindEntryPoint(generation.entryPoint, generation.port).command],
    essential: true,
    memoryMb: input.tier.memory,
    cpuUnits: cpuUnits(input.tier.cpu),
    portMappings: [{ containerPort: generation.port, protocol: 'tcp' }],
    healthCheck: appHealthCheck(generation),
    dependsOn: ready,
  };

  const bridge: ContainerDefinition = {
    ...appLikeContainer(input.appImage, {}),
    name: 'bridge',
    command: [
      'python3',
      '-c',
      loopbackBridgeScript,
      String(generation.port),
      String(databasePorts[generation.dbType] ?? ''),
    ],
    // Its end never ends the task: an app it could not bridge is diagnosed as unreachable.
    essential: false,
    ...bridgeLimits,
    portMappings: [],
    dependsOn: [{ containerName: 'app', condition: 'START' }],
  };

  const containers = [...(database ? [database] : []), ...oneShots, app, bridge];
  return {
    family: `preview-${generation.id}`,
    previewId: input.previewId,
    taskSize: fargateTaskSize({
      cpu: sum(containers.map((c) => c.cpuUnits)),
      memory: sum(containers.map((c) => c.memoryMb)),
    }),
    containers,
    volumes: [...(database?.mountPoints.length ? [{ name: databaseVolume }] : []), { name: scratchVolume }],
    storageGb: input.tier.storageGb,
  };
}

/**
 * The variables through which the app, its migrations and its seed find their database, under the
 * names generated apps read: `DATABASE_URL` always; for PostgreSQL also the async SQLAlchemy URL
 * `DATABASE_URL_ASYNC` (`postgresql+asyncpg://`), the official image's `POSTGRES_*` and libpq's
 * `PG*`; for MongoDB `MONGODB_URI` and `MONGO_URL`; for SQLite `DATABASE_URL_ASYNC`
 * (`sqlite+aiosqlite://`).
 */
export function databaseEnvironment(dbType: DatabaseType, password: string): Record<string, string> {
  const secret = encodeURIComponent(password);
  switch (dbType) {
    case 'postgresql': {
      const address = `${databaseUser}:${secret}@127.0.0.1:5432/${databaseName}`;
      const fields = { HOST: '127.0.0.1', PORT: '5432', USER: databaseUser, PASSWORD: password };
      return {
        DATABASE_URL: `postgresql://${address}`,
        DATABASE_URL_ASYNC: `postgresql+asyncpg://${address}`,
        ...Object.fromEntries(Object.entries(fields).map(([name, value]) => [`POSTGRES_${name}`, value])),
        POSTGRES_DB: databaseName,
        ...Object.fromEntries(Object.entries(fields).map(([name, value]) => [`PG${name}`, value])),
        PGDATABASE: databaseName,
      };
    }
    case 'mongodb': {
      const url = `mongodb://${databaseUser}:${secret}@127.0.0.1:27017/${databaseName}?authSource=admin`;
      return { DATABASE_URL: url, MONGODB_URI: url, MONGO_URL: url };
    }
    case 'sqlite':
      return {
        DATABASE_URL: 'sqlite:////tmp/preview.sqlite3',
        DATABASE_URL_ASYNC: 'sqlite+aiosqlite:////tmp/preview.sqlite3',
      };
    case 'none':
      return {};
  }
}

function appEnvironment({ generation, databasePassword }: TaskDefinitionInput): Record<string, string> {
  return {
    // Tools that write to $HOME need a writable one: the root file system is read-only.
    HOME: '/tmp',
    ...generation.env,
    ...databaseEnvironment(generation.dbType, databasePassword),
    ...listenEnvironment(generation.port, generation.env),
  };
}

/** What the app and its one-shot helpers share: image, environment, sandbox. */
function appLikeContainer(image: string, environment: Record<string, string>) {
  return {
    image,
    environment,
    pidsLimit,
    readonlyRootFilesystem: true,
    user: unprivilegedUser,
    mountPoints: [scratchMount],
  };
}

/**
 * The dependsOn gate: the app answers HTTP on its port inside the task, whatever the status (a 404
 * or a 500 is the launch's diagnosis to make, from outside). Healthy is decided by the launcher,
 * through the path the proxy uses.
 */
function appHealthCheck(generation: Generation): HealthCheck {
  // Exec form, URL as an argument: no shell quoting of the endpoint. Python is in every
  // generated image; curl may not be.
  const probe = [
    'import sys, urllib.error, urllib.request',
    'try: urllib.request.urlopen(sys.argv[1], timeout=4)',
    'except urllib.error.HTTPError: pass',
  ].join('\n');
  return {
    command: [
      'CMD',
      'python3',
      '-c',
      probe,
      `http://127.0.0.1:${generation.port}${generation.healthCheckEndpoint}`,
    ],
    // ECS accepts 5-300 s.
    intervalSeconds: Math.min(generation.healthCheckInterval, 300),
    timeoutSeconds: 5,
    retries: 3,
    startPeriodSeconds: 30,
    httpPath: generation.healthCheckEndpoint,
  };
}

function databaseContainer(input: TaskDefinitionInput): ContainerDefinition | undefined {
  const { dbType } = input.generation;
  if (dbType !== 'postgresql' && dbType !== 'mongodb') return undefined;
  const common = {
    name: 'database' as const,
    image: input.databaseImages?.[dbType] ?? defaultDatabaseImages[dbType],
    essential: true,
    ...databaseLimits,
    pidsLimit,
    portMappings: [],
    dependsOn: [],
    readonlyRootFilesystem: false,
    // As its own user from the start, the entrypoint needs no capability to chown or switch users.
    user: databaseImageUser,
  };
  const check = { intervalSeconds: 5, timeoutSeconds: 5, retries: 10, startPeriodSeconds: 30 };
  if (dbType === 'postgresql') {
    const snapshot = input.databaseSnapshot;
    const dataPath = snapshot?.dataPath ?? '/var/lib/postgresql/data';
    return {
      ...common,
      ...(snapshot ? { image: snapshot.image } : {}),
      // The data lives no longer than the preview: durability only costs launch time.
      command: ['postgres', '-c', 'fsync=off'],
      environment: {
        POSTGRES_USER: databaseUser,
        POSTGRES_PASSWORD: input.databasePassword,
        POSTGRES_DB: databaseName,
        POSTGRES_INITDB_ARGS: '--no-sync',
        // A subdirectory of the volume, created by postgres itself with the mode it insists on.
        PGDATA: `${dataPath}/pgdata`,
      },
      // Over TCP: during initialisation postgres listens on its socket only, so this passes
      // only once the real server accepts the app's connections.
      healthCheck: {
        ...check,
        command: ['CMD-SHELL', `pg_isready -q -h 127.0.0.1 -U ${databaseUser} -d ${databaseName}`],
      },
      // A snapshot's data kept in the image's layer: writes go to the container's own layer, which
      // lives as long as the task, as the volume would (a recovery starts a new task either way).
      ...(snapshot?.restoredOn === 'layer'
        ? { mountPoints: [], layerDataPath: dataPath }
        : { mountPoints: [{ sourceVolume: databaseVolume, containerPath: dataPath, readOnly: false }] }),
    };
  }
  return {
    ...common,
    environment: {
      MONGO_INITDB_ROOT_USERNAME: databaseUser,
      MONGO_INITDB_ROOT_PASSWORD: input.databasePassword,
      MONGO_INITDB_DATABASE: databaseName,
    },
    healthCheck: {
      ...check,
      command: [
        'CMD-SHELL',
        `mongosh --quiet --host 127.0.0.1 --eval "db.adminCommand('ping').ok" | grep -q 1`,
      ],
    },
    mountPoints: [{ sourceVolume: databaseVolume, containerPath: '/data/db', readOnly: false }],
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
