import { describe, expect, it } from 'vitest';
import { ecsTask, ephemeralStorageGiB, maxSecretBytes } from '#adapters/aws/ecs-task-definition.js';
import { snapshotDataPath } from '#adapters/aws/ecr-snapshot-images.js';
import { AppError } from '#core/errors.js';
import { isValidFargateSize } from '#core/fargate.js';
import type { Generation } from '#core/generation.js';
import { loopbackBridgeScript } from '#core/loopback-bridge.js';
import { buildTaskDefinition } from '#core/task-definition.js';
import { defaultTiers } from '#core/tiers.js';
import { exampleGeneration, settings } from './aws-fixtures.js';

const appImage = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app:3f5d';
const secretsPath = '/preview-service/test/secrets/preview_0mjv1k2a83f9c2e1d4b5a6f70';
/** The database's credentials, as the app, its migration and its seed get them: from parameters. */
const databaseCredentials = ['DATABASE_URL', 'DATABASE_URL_ASYNC', 'PGPASSWORD', 'POSTGRES_PASSWORD'].map(
  (name) => ({ name, valueFrom: `${secretsPath}/${name}` }),
);
const password = 'pa55-word_x';

function task(
  generation: Generation,
  options: { previewId?: string; password?: string; image?: string } = {},
) {
  return buildTaskDefinition({
    previewId: options.previewId ?? 'preview_0mjv1k2a83f9c2e1d4b5a6f70',
    generation,
    tier: defaultTiers.free,
    appImage: options.image ?? appImage,
    databasePassword: options.password ?? password,
  });
}

/** Streams `preview/<container>/<task id>` in the preview log group. */
const logConfiguration = {
  logDriver: 'awslogs',
  options: {
    'awslogs-group': '/preview/test',
    'awslogs-region': 'eu-west-1',
    'awslogs-stream-prefix': 'preview',
    mode: 'non-blocking',
    'max-buffer-size': '4m',
  },
};

const sandbox = {
  ulimits: [{ name: 'nproc', softLimit: 256, hardLimit: 256 }],
  linuxParameters: { initProcessEnabled: true, capabilities: { drop: ['ALL'] } },
};

const sandboxed = {
  image: appImage,
  ...sandbox,
  readonlyRootFilesystem: true,
  user: '65534:65534',
  mountPoints: [{ sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false }],
};

/** Where servers listen: all interfaces, the generation's port. */
const listening = [
  { name: 'GUNICORN_CMD_ARGS', value: '--bind 0.0.0.0:8000' },
  { name: 'HOME', value: '/tmp' },
  { name: 'HOST', value: '0.0.0.0' },
];

const appLike = {
  ...sandboxed,
  environment: [
    { name: 'APP_ENV', value: 'preview' },
    ...listening,
    { name: 'LOG_LEVEL', value: 'INFO' },
    // The database's address and user: not secret, so in the definition.
    { name: 'PGDATABASE', value: 'preview' },
    { name: 'PGHOST', value: '127.0.0.1' },
    { name: 'PGPORT', value: '5432' },
    { name: 'PGUSER', value: 'preview' },
    { name: 'PORT', value: '8000' },
    { name: 'POSTGRES_DB', value: 'preview' },
    { name: 'POSTGRES_HOST', value: '127.0.0.1' },
    { name: 'POSTGRES_PORT', value: '5432' },
    { name: 'POSTGRES_USER', value: 'preview' },
    { name: 'UVICORN_HOST', value: '0.0.0.0' },
    { name: 'UVICORN_PORT', value: '8000' },
  ],
};

/** The loopback bridge: the app image's python3, beside the app in the task's namespace. */
function bridge(databasePort: string) {
  return {
    name: 'bridge',
    ...sandboxed,
    environment: [],
    command: ['python3', '-c', loopbackBridgeScript, '8000', databasePort],
    essential: false,
    memory: 64,
    cpu: 0,
    portMappings: [],
    dependsOn: [{ containerName: 'app', condition: 'START' }],
    logConfiguration: logConfiguration,
  };
}

const inContainerProbe = [
  'import sys, urllib.error, urllib.request',
  'try: urllib.request.urlopen(sys.argv[1], timeout=4)',
  'except urllib.error.HTTPError: pass',
].join('\n');

describe('ecsTask', () => {
  it('maps a PostgreSQL generation to a Fargate definition with the exact container settings', () => {
    const { registration } = ecsTask(task(exampleGeneration('todo-postgres')), settings);
    expect(registration).toEqual({
      family: expect.stringMatching(/^preview-[0-9a-f]{16}$/),
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '2048',
      memory: '4096',
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
      executionRoleArn: 'arn:aws:iam::123456789012:role/preview-execution',
      taskRoleArn: 'arn:aws:iam::123456789012:role/preview-task',
      volumes: [{ name: 'database-data' }, { name: 'scratch' }],
      tags: [{ key: 'preview:managed', value: 'true' }],
      containerDefinitions: [
        {
          name: 'database',
          image: 'postgres:15',
          command: ['postgres', '-c', 'fsync=off'],
          environment: [
            { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
            { name: 'POSTGRES_DB', value: 'preview' },
            { name: 'POSTGRES_INITDB_ARGS', value: '--no-sync' },
            { name: 'POSTGRES_USER', value: 'preview' },
          ],
          secrets: [{ name: 'POSTGRES_PASSWORD', valueFrom: `${secretsPath}/POSTGRES_PASSWORD` }],
          essential: true,
          memory: 256,
          cpu: 512,
          ...sandbox,
          readonlyRootFilesystem: false,
          user: '999:999',
          portMappings: [],
          mountPoints: [
            { sourceVolume: 'database-data', containerPath: '/var/lib/postgresql/data', readOnly: false },
          ],
          dependsOn: [],
          healthCheck: {
            command: ['CMD-SHELL', 'pg_isready -q -h 127.0.0.1 -U preview -d preview'],
            interval: 5,
            timeout: 5,
            retries: 10,
            startPeriod: 30,
          },
          logConfiguration: logConfiguration,
        },
        {
          name: 'migrate',
          ...appLike,
          secrets: databaseCredentials,
          command: ['sh', '-c', 'alembic upgrade head'],
          essential: false,
          memory: 256,
          cpu: 512,
          portMappings: [],
          dependsOn: [{ containerName: 'database', condition: 'HEALTHY' }],
          logConfiguration: logConfiguration,
        },
        {
          name: 'seed',
          ...appLike,
          secrets: databaseCredentials,
          command: ['sh', '-c', 'python -m app.seed'],
          essential: false,
          memory: 256,
          cpu: 512,
          portMappings: [],
          dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }],
          logConfiguration: logConfiguration,
        },
        {
          name: 'app',
          ...appLike,
          secrets: databaseCredentials,
          command: ['sh', '-c', 'uvicorn app.main:app --host 0.0.0.0 --port 8000 --no-access-log'],
          essential: true,
          memory: 256,
          cpu: 512,
          portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
          dependsOn: [{ containerName: 'seed', condition: 'SUCCESS' }],
          healthCheck: {
            command: ['CMD', 'python3', '-c', inContainerProbe, 'http://127.0.0.1:8000/health'],
            interval: 10,
            timeout: 5,
            retries: 3,
            startPeriod: 30,
          },
          logConfiguration: logConfiguration,
        },
        bridge('5432'),
      ],
    });
  });

  it('starts a restored launch from the snapshot image: data copied into the bind mount, no migrate or seed', () => {
    const snapshotImage = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/preview-app:db-snapshot-${'3f9c'.repeat(8)}`;
    const restored = buildTaskDefinition({
      previewId: 'preview_0mjv1k2a83f9c2e1d4b5a6f70',
      generation: exampleGeneration('todo-postgres'),
      tier: defaultTiers.free,
      appImage,
      databasePassword: password,
      databaseSnapshot: { image: snapshotImage, dataPath: snapshotDataPath, restoredOn: 'volume' },
    });
    const { registration, secrets } = ecsTask(restored, settings);

    expect(registration.containerDefinitions?.map((c) => c.name)).toEqual(['database', 'app', 'bridge']);
    // No host: a bind mount on the task's ephemeral storage. The snapshot image declares its data
    // path a VOLUME, so Fargate copies the data (and its owner) into the mount there.
    expect(registration.volumes).toEqual([{ name: 'database-data' }, { name: 'scratch' }]);
    const [database, app] = registration.containerDefinitions ?? [];
    expect(database).toMatchObject({
      image: snapshotImage,
      command: ['postgres', '-c', 'fsync=off'],
      user: '999:999',
      environment: [
        { name: 'PGDATA', value: `${snapshotDataPath}/pgdata` },
        { name: 'POSTGRES_DB', value: 'preview' },
        { name: 'POSTGRES_INITDB_ARGS', value: '--no-sync' },
        { name: 'POSTGRES_USER', value: 'preview' },
      ],
      // The launch's own password, as for any launch: the snapshot holds none of it.
      secrets: [{ name: 'POSTGRES_PASSWORD', valueFrom: `${secretsPath}/POSTGRES_PASSWORD` }],
      mountPoints: [{ sourceVolume: 'database-data', containerPath: snapshotDataPath, readOnly: false }],
    });
    expect(app?.dependsOn).toEqual([{ containerName: 'database', condition: 'HEALTHY' }]);
    expect(secrets.find((s) => s.parameterName.endsWith('/POSTGRES_PASSWORD'))?.value).toBe(password);
  });

  it('hands the database password and connection string over as SSM parameters, never as plain text', () => {
    const { registration, secrets } = ecsTask(task(exampleGeneration('todo-postgres')), settings);
    const address = `preview:${password}@127.0.0.1:5432/preview`;
    expect(secrets).toEqual([
      { parameterName: `${secretsPath}/POSTGRES_PASSWORD`, value: password },
      { parameterName: `${secretsPath}/DATABASE_URL`, value: `postgresql://${address}` },
      { parameterName: `${secretsPath}/DATABASE_URL_ASYNC`, value: `postgresql+asyncpg://${address}` },
      { parameterName: `${secretsPath}/PGPASSWORD`, value: password },
    ]);
    expect(JSON.stringify(registration)).not.toContain(password);
  });

  it('keeps the MongoDB root password out of the definition too', () => {
    const mongo = exampleGeneration('todo-postgres', { dbType: 'mongodb' });
    const { registration, secrets } = ecsTask(task(mongo), settings);
    expect(JSON.stringify(registration)).not.toContain(password);
    expect(registration.containerDefinitions?.[0]?.secrets).toEqual([
      { name: 'MONGO_INITDB_ROOT_PASSWORD', valueFrom: `${secretsPath}/MONGO_INITDB_ROOT_PASSWORD` },
    ]);
    expect(secrets.map((secret) => secret.value)).toContain(password);
  });

  it('moves generation variables named like secrets to parameters, and keeps empty ones plain', () => {
    const generation = exampleGeneration('hello-api', {
      env: {
        STRIPE_API_KEY: 'sk_test_51Habc',
        JWT_SECRET: 'jwt-signing-secret',
        EMPTY_TOKEN: '',
        MODE: 'demo',
      },
    });
    const { registration, secrets } = ecsTask(task(generation), settings);
    const [app] = registration.containerDefinitions ?? [];
    expect(app?.secrets).toEqual([
      { name: 'JWT_SECRET', valueFrom: `${secretsPath}/JWT_SECRET` },
      { name: 'STRIPE_API_KEY', valueFrom: `${secretsPath}/STRIPE_API_KEY` },
    ]);
    expect(app?.environment?.map((pair) => pair.name)).toEqual([
      'EMPTY_TOKEN',
      'GUNICORN_CMD_ARGS',
      'HOME',
      'HOST',
      'MODE',
      'PORT',
      'UVICORN_HOST',
      'UVICORN_PORT',
    ]);
    expect(secrets).toEqual([
      { parameterName: `${secretsPath}/STRIPE_API_KEY`, value: 'sk_test_51Habc' },
      { parameterName: `${secretsPath}/JWT_SECRET`, value: 'jwt-signing-secret' },
    ]);
    expect(JSON.stringify(registration)).not.toMatch(/sk_test_51Habc|jwt-signing-secret/);
  });

  it('gives a container its own parameter when its value of a shared name differs', () => {
    const generation = exampleGeneration('todo-postgres', {
      dbType: 'mongodb',
      env: { MONGO_INITDB_ROOT_PASSWORD: 'app-side-value' },
    });
    const { registration, secrets } = ecsTask(task(generation), settings);
    const byName = new Map(registration.containerDefinitions?.map((c) => [c.name, c.secrets]));
    expect(byName.get('database')).toEqual([
      { name: 'MONGO_INITDB_ROOT_PASSWORD', valueFrom: `${secretsPath}/MONGO_INITDB_ROOT_PASSWORD` },
    ]);
    expect(byName.get('app')).toContainEqual({
      name: 'MONGO_INITDB_ROOT_PASSWORD',
      valueFrom: `${secretsPath}/migrate/MONGO_INITDB_ROOT_PASSWORD`,
    });
    expect(secrets).toContainEqual({
      parameterName: `${secretsPath}/migrate/MONGO_INITDB_ROOT_PASSWORD`,
      value: 'app-side-value',
    });
  });

  it('maps a generation without a database to the app alone on the smallest size it fits', () => {
    const { registration, secrets } = ecsTask(task(exampleGeneration('hello-api')), settings);
    expect(registration.cpu).toBe('512');
    expect(registration.memory).toBe('1024');
    expect(registration.volumes).toEqual([{ name: 'scratch' }]);
    expect(registration.containerDefinitions).toEqual([
      {
        name: 'app',
        ...appLike,
        environment: [
          { name: 'APP_ENV', value: 'preview' },
          { name: 'GREETING', value: 'Hello' },
          ...listening,
          { name: 'PORT', value: '8000' },
          { name: 'UVICORN_HOST', value: '0.0.0.0' },
          { name: 'UVICORN_PORT', value: '8000' },
        ],
        command: ['sh', '-c', 'uvicorn app.main:app --host 0.0.0.0 --port 8000 --no-access-log'],
        essential: true,
        memory: 256,
        cpu: 512,
        portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
        dependsOn: [],
        healthCheck: expect.objectContaining({ interval: 10, timeout: 5, retries: 3, startPeriod: 30 }),
        logConfiguration: logConfiguration,
      },
      bridge(''),
    ]);
    expect(secrets).toEqual([]);
  });

  it.each(['hello-api', 'todo-postgres'])(
    'sizes %s to a valid Fargate size covering its containers',
    (id) => {
      for (const tier of Object.values(defaultTiers)) {
        const definition = buildTaskDefinition({
          previewId: 'preview_1',
          generation: exampleGeneration(id),
          tier,
          appImage,
          databasePassword: password,
        });
        const { registration } = ecsTask(definition, settings);
        const containers = registration.containerDefinitions ?? [];
        const size = { cpu: Number(registration.cpu), memory: Number(registration.memory) };
        expect(isValidFargateSize(size)).toBe(true);
        expect(containers.reduce((total, c) => total + (c.cpu ?? 0), 0)).toBeLessThanOrEqual(size.cpu);
        expect(containers.reduce((total, c) => total + (c.memory ?? 0), 0)).toBeLessThanOrEqual(size.memory);
        expect(containers.find((c) => c.name === 'app')).toMatchObject({
          memory: tier.memory,
          cpu: tier.cpu * 1024,
        });
      }
    },
  );

  it('shares one family between previews of the same content without secrets, and only them', () => {
    const generation = exampleGeneration('hello-api');
    const family = (definition: ReturnType<typeof task>, withSettings = settings) =>
      ecsTask(definition, withSettings).registration.family;
    const first = family(task(generation));
    expect(family(task(generation, { previewId: 'preview_other' }))).toBe(first);
    expect(family(task(generation, { image: `${appImage}0` }))).not.toBe(first);
    expect(family(task(exampleGeneration('hello-api', { port: 9000 })))).not.toBe(first);
    // Parameters are named by preview: a preview with secrets has a family of its own.
    const postgres = exampleGeneration('todo-postgres');
    expect(family(task(postgres, { previewId: 'preview_other' }))).not.toBe(family(task(postgres)));
    expect(family(task(generation), { ...settings, cpuArchitecture: 'ARM64' })).not.toBe(first);
  });

  it("sizes the task's ephemeral storage for the tier's allowance where Fargate's 20 GiB is not enough", () => {
    expect(ephemeralStorageGiB(1)).toBeUndefined();
    expect(ephemeralStorageGiB(15)).toBeUndefined();
    expect(ephemeralStorageGiB(15.5)).toBe(21);
    expect(ephemeralStorageGiB(100)).toBe(105);
    expect(ephemeralStorageGiB(200)).toBe(200);
    const big = buildTaskDefinition({
      previewId: 'preview_1',
      generation: exampleGeneration('hello-api'),
      tier: { ...defaultTiers.enterprise, storageGb: 50 },
      appImage,
      databasePassword: password,
    });
    expect(ecsTask(big, settings).registration.ephemeralStorage).toEqual({ sizeInGiB: 55 });
    expect(
      ecsTask(task(exampleGeneration('hello-api')), settings).registration.ephemeralStorage,
    ).toBeUndefined();
  });

  it('runs on ARM64 when the settings say so', () => {
    const arm = { ...settings, cpuArchitecture: 'ARM64' as const };
    const { registration } = ecsTask(task(exampleGeneration('hello-api')), arm);
    expect(registration.runtimePlatform).toEqual({
      operatingSystemFamily: 'LINUX',
      cpuArchitecture: 'ARM64',
    });
  });

  it('refuses a secret larger than an SSM parameter holds', () => {
    const huge = exampleGeneration('hello-api', {
      env: { API_TOKEN: 'x'.repeat(maxSecretBytes + 1) },
    });
    const run = () => ecsTask(task(huge), settings);
    expect(run).toThrow(AppError);
    expect(run).toThrow(/secret of preview preview_0mjv1k2a83f9c2e1d4b5a6f70 \(API_TOKEN\) takes 4097 bytes/);
  });
});
