import { describe, expect, it } from 'vitest';
import { isValidFargateSize } from '#core/fargate.js';
import { generationSchema, type DatabaseType } from '#core/generation.js';
import {
  buildTaskDefinition,
  type ContainerDefinition,
  type PreviewTaskDefinition,
} from '#core/task-definition.js';
import { defaultTiers, type Tier } from '#core/tiers.js';

const password = 'pa55-word_x';

function generation(dbType: DatabaseType, extra: Record<string, unknown> = {}) {
  return generationSchema.parse({
    id: 'g1',
    projectId: 'p1',
    dbType,
    entryPoint: 'uvicorn app.main:app --host 0.0.0.0 --port 8000',
    env: { APP_ENV: 'preview', DATABASE_URL: 'sqlite:///./local.db' },
    ...extra,
  });
}

const withOneShots = {
  requiresMigrations: true,
  migrationCommand: 'alembic upgrade head',
  seedDataIncluded: true,
  seedCommand: 'python -m app.seed',
};

function task(dbType: DatabaseType, extra: Record<string, unknown> = {}, tier: Tier = defaultTiers.free) {
  return buildTaskDefinition({
    previewId: 'preview_1',
    generation: generation(dbType, extra),
    tier,
    appImage: 'preview-app:abc',
    databasePassword: password,
  });
}

function container(definition: PreviewTaskDefinition, name: string): ContainerDefinition {
  const found = definition.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} container`);
  return found;
}

const names = (definition: PreviewTaskDefinition) => definition.containers.map((c) => c.name);

describe('buildTaskDefinition', () => {
  it('runs PostgreSQL as a sidecar the app reaches on localhost', () => {
    const definition = task('postgresql', withOneShots);
    const database = container(definition, 'database');
    expect(database.image).toBe('postgres:15');
    expect(database.environment).toMatchObject({
      POSTGRES_USER: 'preview',
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: 'preview',
    });
    expect(database.healthCheck?.command.join(' ')).toContain('pg_isready');
    expect(database.essential).toBe(true);
    expect(database.mountPoints).toEqual([
      { sourceVolume: 'database-data', containerPath: '/var/lib/postgresql/data', readOnly: false },
    ]);
    for (const name of ['migrate', 'seed', 'app']) {
      expect(container(definition, name).environment.DATABASE_URL).toBe(
        `postgresql://preview:${password}@127.0.0.1:5432/preview`,
      );
    }
    expect(definition.volumes.map((v) => v.name)).toEqual(['database-data', 'scratch']);
  });

  it('runs MongoDB as a sidecar with its root user', () => {
    const definition = task('mongodb');
    const database = container(definition, 'database');
    expect(database.image).toBe('mongo:7');
    expect(database.environment).toMatchObject({
      MONGO_INITDB_ROOT_USERNAME: 'preview',
      MONGO_INITDB_ROOT_PASSWORD: password,
    });
    expect(database.healthCheck?.command.join(' ')).toContain('mongosh');
    expect(container(definition, 'app').environment.DATABASE_URL).toBe(
      `mongodb://preview:${password}@127.0.0.1:27017/preview?authSource=admin`,
    );
  });

  it('takes database images from the caller', () => {
    const definition = buildTaskDefinition({
      previewId: 'preview_1',
      generation: generation('postgresql'),
      tier: defaultTiers.free,
      appImage: 'preview-app:abc',
      databasePassword: password,
      databaseImages: { postgresql: 'registry.example/postgres:15' },
    });
    expect(container(definition, 'database').image).toBe('registry.example/postgres:15');
  });

  it('keeps a SQLite database in a file on the shared /tmp, with no sidecar', () => {
    const definition = task('sqlite', withOneShots);
    expect(names(definition)).toEqual(['migrate', 'seed', 'app', 'bridge']);
    expect(container(definition, 'migrate').dependsOn).toEqual([]);
    for (const name of ['migrate', 'seed', 'app']) {
      const c = container(definition, name);
      expect(c.environment.DATABASE_URL).toBe('sqlite:////tmp/preview.sqlite3');
      expect(c.mountPoints).toContainEqual({
        sourceVolume: 'scratch',
        containerPath: '/tmp',
        readOnly: false,
      });
    }
    expect(definition.volumes).toEqual([{ name: 'scratch' }]);
  });

  it('runs the app alone when there is no database', () => {
    const definition = task('none');
    expect(names(definition)).toEqual(['app', 'bridge']);
    const app = container(definition, 'app');
    expect(app.dependsOn).toEqual([]);
    // No database of ours: the generation's own setting stands.
    expect(app.environment).toEqual({
      HOME: '/tmp',
      APP_ENV: 'preview',
      DATABASE_URL: 'sqlite:///./local.db',
      PORT: '8000',
      HOST: '0.0.0.0',
      UVICORN_HOST: '0.0.0.0',
      UVICORN_PORT: '8000',
      GUNICORN_CMD_ARGS: '--bind 0.0.0.0:8000',
    });
  });

  it('orders database → migrate → seed → app with ECS conditions', () => {
    const definition = task('postgresql', withOneShots);
    expect(names(definition)).toEqual(['database', 'migrate', 'seed', 'app', 'bridge']);
    expect(container(definition, 'migrate').dependsOn).toEqual([
      { containerName: 'database', condition: 'HEALTHY' },
    ]);
    expect(container(definition, 'seed').dependsOn).toEqual([
      { containerName: 'migrate', condition: 'SUCCESS' },
    ]);
    expect(container(definition, 'app').dependsOn).toEqual([{ containerName: 'seed', condition: 'SUCCESS' }]);
    expect(container(definition, 'migrate').command).toEqual(['sh', '-c', 'alembic upgrade head']);
    expect(container(definition, 'seed').command).toEqual(['sh', '-c', 'python -m app.seed']);
    expect(container(definition, 'migrate').essential).toBe(false);
    expect(container(definition, 'seed').essential).toBe(false);
  });

  it('starts the app once the database is healthy when there is nothing to migrate or seed', () => {
    const definition = task('postgresql');
    expect(names(definition)).toEqual(['database', 'app', 'bridge']);
    expect(container(definition, 'app').dependsOn).toEqual([
      { containerName: 'database', condition: 'HEALTHY' },
    ]);
  });

  it('skips a migration command the generation does not ask for', () => {
    const definition = task('postgresql', { migrationCommand: 'alembic upgrade head' });
    expect(names(definition)).toEqual(['database', 'app', 'bridge']);
  });

  it('gives the app the tier as hard limits, a health check and a locked-down sandbox', () => {
    const definition = task('postgresql', {
      port: 9000,
      healthCheckEndpoint: "/it's/up",
      healthCheckInterval: 600,
    });
    const app = container(definition, 'app');
    expect(app.memoryMb).toBe(256);
    expect(app.cpuUnits).toBe(512);
    expect(app.pidsLimit).toBeGreaterThan(0);
    // The generation's port is the one published and probed: the entry point's --port follows it.
    expect(app.command).toEqual(['sh', '-c', 'uvicorn app.main:app --host 0.0.0.0 --port 9000']);
    expect(app.portMappings).toEqual([{ containerPort: 9000, protocol: 'tcp' }]);
    expect(app.environment.PORT).toBe('9000');
    expect(app.readonlyRootFilesystem).toBe(true);
    expect(app.user).toBe('65534:65534');
    expect(app.essential).toBe(true);
    expect(app.healthCheck?.command[0]).toBe('CMD');
    expect(app.healthCheck?.command.at(-1)).toBe("http://127.0.0.1:9000/it's/up");
    expect(app.healthCheck?.intervalSeconds).toBe(300);
  });

  it('gives PostgreSQL apps the variables generated apps read: URLs, POSTGRES_*, libpq PG*', () => {
    const definition = task('postgresql', withOneShots);
    for (const name of ['migrate', 'seed', 'app']) {
      expect(container(definition, name).environment).toMatchObject({
        DATABASE_URL: `postgresql://preview:${password}@127.0.0.1:5432/preview`,
        DATABASE_URL_ASYNC: `postgresql+asyncpg://preview:${password}@127.0.0.1:5432/preview`,
        POSTGRES_HOST: '127.0.0.1',
        POSTGRES_PORT: '5432',
        POSTGRES_USER: 'preview',
        POSTGRES_PASSWORD: password,
        POSTGRES_DB: 'preview',
        PGHOST: '127.0.0.1',
        PGPORT: '5432',
        PGUSER: 'preview',
        PGPASSWORD: password,
        PGDATABASE: 'preview',
      });
    }
  });

  it('gives MongoDB apps MONGODB_URI and MONGO_URL, and SQLite apps an aiosqlite URL', () => {
    const url = `mongodb://preview:${password}@127.0.0.1:27017/preview?authSource=admin`;
    expect(container(task('mongodb'), 'app').environment).toMatchObject({
      DATABASE_URL: url,
      MONGODB_URI: url,
      MONGO_URL: url,
    });
    expect(container(task('sqlite'), 'app').environment.DATABASE_URL_ASYNC).toBe(
      'sqlite+aiosqlite:////tmp/preview.sqlite3',
    );
  });

  it('tells servers to listen on all interfaces at the generation port, keeping other gunicorn arguments', () => {
    const app = container(
      task('none', { port: 8080, env: { GUNICORN_CMD_ARGS: '--workers 2 --bind 127.0.0.1:9000' } }),
      'app',
    );
    expect(app.environment).toMatchObject({
      PORT: '8080',
      HOST: '0.0.0.0',
      UVICORN_HOST: '0.0.0.0',
      UVICORN_PORT: '8080',
      GUNICORN_CMD_ARGS: '--workers 2 --bind 0.0.0.0:8080',
    });
  });

  it('runs the spec-default entry point as it is: the environment binds it', () => {
    const app = container(task('none', { entryPoint: 'uvicorn app.main:app' }), 'app');
    expect(app.command).toEqual(['sh', '-c', 'uvicorn app.main:app']);
  });

  it('adds the loopback bridge after the app, in its namespace, unprivileged and non-essential', () => {
    const definition = task('postgresql', { port: 8080 });
    const bridge = container(definition, 'bridge');
    expect(bridge).toMatchObject({
      image: 'preview-app:abc',
      essential: false,
      memoryMb: 64,
      cpuUnits: 0,
      portMappings: [],
      dependsOn: [{ containerName: 'app', condition: 'START' }],
      readonlyRootFilesystem: true,
      user: '65534:65534',
      environment: {},
    });
    // The expected port, and the database's port, which is not the app's.
    expect(bridge.command?.slice(0, 2)).toEqual(['python3', '-c']);
    expect(bridge.command?.slice(3)).toEqual(['8080', '5432']);
    expect(container(task('none'), 'bridge').command?.slice(3)).toEqual(['8000', '']);
  });

  it('keeps every default tier on the Fargate size it has without the bridge', () => {
    const sizes = Object.values(defaultTiers).map((tier) => task('postgresql', withOneShots, tier).taskSize);
    expect(sizes).toEqual([
      { cpu: 2048, memory: 4096 },
      { cpu: 4096, memory: 8192 },
      { cpu: 8192, memory: 16384 },
    ]);
  });

  it('lets the service, not the generation, say where the database is', () => {
    const app = container(task('postgresql'), 'app');
    expect(app.environment.DATABASE_URL).toContain('127.0.0.1:5432');
  });

  it('escapes the password in the connection string', () => {
    const definition = buildTaskDefinition({
      previewId: 'preview_1',
      generation: generation('postgresql'),
      tier: defaultTiers.free,
      appImage: 'preview-app:abc',
      databasePassword: 'a/b@c',
    });
    expect(container(definition, 'app').environment.DATABASE_URL).toBe(
      'postgresql://preview:a%2Fb%40c@127.0.0.1:5432/preview',
    );
  });

  it.each(['none', 'sqlite', 'postgresql', 'mongodb'] as const)(
    'sizes a %s task to a valid Fargate size that covers every container',
    (dbType) => {
      for (const tier of Object.values(defaultTiers)) {
        const definition = task(dbType, withOneShots, tier);
        const cpu = definition.containers.reduce((total, c) => total + c.cpuUnits, 0);
        const memory = definition.containers.reduce((total, c) => total + c.memoryMb, 0);
        expect(isValidFargateSize(definition.taskSize)).toBe(true);
        expect(definition.taskSize.cpu).toBeGreaterThanOrEqual(cpu);
        expect(definition.taskSize.memory).toBeGreaterThanOrEqual(memory);
      }
    },
  );

  it('sizes the free tier app alone to the smallest Fargate task', () => {
    expect(task('none').taskSize).toEqual({ cpu: 512, memory: 1024 });
  });

  it('names the family after the generation and keeps the preview id', () => {
    const definition = task('none');
    expect(definition.family).toBe('preview-g1');
    expect(definition.previewId).toBe('preview_1');
  });
});

describe('a task whose database starts from a snapshot', () => {
  const restored = (restoredOn: 'layer' | 'volume') =>
    buildTaskDefinition({
      previewId: 'preview_1',
      generation: generation('postgresql', withOneShots),
      tier: defaultTiers.free,
      appImage: 'preview-app:abc',
      databasePassword: password,
      databaseSnapshot: {
        image: 'preview-db-snapshot:k1',
        dataPath: '/var/lib/postgresql/snapshot',
        restoredOn,
      },
    });

  it('runs the snapshot image with its data in its own layer, and no migrate or seed container', () => {
    const task = restored('layer');
    expect(names(task)).toEqual(['database', 'app', 'bridge']);
    const database = container(task, 'database');
    expect(database.image).toBe('preview-db-snapshot:k1');
    expect(database.environment.PGDATA).toBe('/var/lib/postgresql/snapshot/pgdata');
    // No volume to fill with a copy before the database starts; the storage still counts the data.
    expect(database.mountPoints).toEqual([]);
    expect(database.layerDataPath).toBe('/var/lib/postgresql/snapshot');
    expect(task.volumes).toEqual([{ name: 'scratch' }]);
    expect(container(task, 'app').dependsOn).toEqual([{ containerName: 'database', condition: 'HEALTHY' }]);
  });

  it('mounts the database volume on the data path of a snapshot restored on a volume', () => {
    const task = restored('volume');
    const database = container(task, 'database');
    expect(database.mountPoints).toEqual([
      { sourceVolume: 'database-data', containerPath: '/var/lib/postgresql/snapshot', readOnly: false },
    ]);
    expect(database.layerDataPath).toBeUndefined();
    expect(task.volumes.map((v) => v.name)).toContain('database-data');
  });
});
