import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { z } from 'zod';
import { systemClock, type Clock } from '#core/clock.js';
import { chooseRunnerKind, dockerEngineAnswers } from '#adapters/local/docker-available.js';
import { dockerSocketOf } from '#adapters/local/docker-task-runner.js';
import { loadConfig, type Config } from '#core/config.js';
import { eventFunctions, localSchedules } from '#handlers/registry.js';
import { useServiceOverrides, type ServiceOverrides } from '#handlers/services.js';
import { localJwtSecret } from './dev-secret.js';
import { apiDocs } from './api-docs.js';
import { startGateway, type LocalGateway } from './gateway.js';
import { createLocalPreviewRuntime } from './preview-runtime.js';
import { LocalLogs } from './local-logs.js';
import { RuntimeUnavailableStarter } from './runtime-unavailable-starter.js';
import { startSchedules } from './scheduler.js';
import { WebConsole } from './web-console.js';
import { ensureTables, startLocalDynamoDb, type LocalDynamoDb } from './local-dynamodb.js';

export interface LocalRuntime {
  readonly url: string;
  readonly config: Config;
  /** Where the local DynamoDB keeps its data, or the external endpoint in use. */
  readonly dynamoDb: string;
  /** Where previews run; undefined when the caller supplied its own runtime. */
  readonly runnerKind: string | undefined;
  readonly notice: string | undefined;
  /** The local log path: preview output enters it here (tests write lines as a container would). */
  readonly logs: LocalLogs;
  close(): Promise<void>;
}

export interface LocalRuntimeOptions {
  readonly port: number;
  /** Folder for local state (DynamoDB data); `undefined` keeps it in memory. */
  readonly dataDir: string | undefined;
  /** Replaces the local preview runtime (Docker or processes) that is created otherwise. */
  readonly overrides?: ServiceOverrides;
  /** The service's clock; tests move it to reach expiry without waiting. */
  readonly clock?: Clock;
}

const healthTickSeconds = 1;

/** The runner `PREVIEW_RUNNER` names, or Docker when the engine (DOCKER_HOST's, or the default) answers. */
async function chooseRunner(configured: Config['runner']) {
  const socket = dockerSocketOf(new Docker());
  return chooseRunnerKind(configured, await dockerEngineAnswers(socket), socket);
}

async function privateFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

const portSchema = z.coerce.number().int().min(0).max(65535);

/** PREVIEW_PORT, validated; 3000 when unset. */
export function gatewayPort(env = process.env): number {
  const parsed = portSchema.safeParse(env.PREVIEW_PORT ?? 3000);
  if (!parsed.success)
    throw new Error(`Invalid configuration:\n  - PREVIEW_PORT: must be a port number (0-65535)`);
  return parsed.data;
}

/**
 * The local stand-in for AWS: a DynamoDB API (unless AWS_ENDPOINT_URL_DYNAMODB points at one
 * already) and the gateway that invokes the same handlers as API Gateway would.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  // Embedded-metric lines are for CloudWatch; locally they would only fill the console.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.PREVIEW_JWT_SECRET = localJwtSecret();
  // The bundled examples name no owner; the stack sets false.
  process.env.PREVIEW_ALLOW_UNOWNED_GENERATIONS ??= 'true';
  // Every connection write is made in this process, which refreshes the list it keeps.
  process.env.PREVIEW_CONNECTION_CACHE_MS ??= '5000';

  // The data folder holds the JWT secret and every preview's state: its owner's alone.
  if (options.dataDir) await privateFolder(options.dataDir);
  let dynamo: LocalDynamoDb | undefined;
  if (!process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    dynamo = await startLocalDynamoDb({ path: options.dataDir && join(options.dataDir, 'dynamodb') });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  }
  let gateway: LocalGateway | undefined;
  let scratchDir: string | undefined;
  const logs = await LocalLogs.create({ dataDir: options.dataDir, clock: options.clock ?? systemClock });
  try {
    gateway = await startGateway({
      port: options.port,
      extensions: [...logs.extensions, apiDocs, new WebConsole()],
    });
    process.env.PREVIEW_PUBLIC_URL = gateway.url;
    const config = loadConfig();
    await ensureTables(process.env.AWS_ENDPOINT_URL_DYNAMODB, config.tables);
    // Without a data folder everything is this instance's alone, and goes when it closes.
    scratchDir = options.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'preview-service-'));
    const choice = options.overrides ? undefined : await chooseRunner(config.runner);
    const previewRuntime = choice?.kind
      ? await createLocalPreviewRuntime(
          choice.kind,
          options.dataDir ?? (scratchDir as string),
          { ...config.localRuntime, launchTimeoutSeconds: config.launchTimeoutSeconds },
          logs,
        )
      : undefined;
    useServiceOverrides({
      logs: logs.start(gateway.url, config.logRetentionDays),
      // Every handler runs in this process: every write to a preview passes its store.
      soleWriter: true,
      ...(options.overrides ?? {
        runtime: previewRuntime,
        ...(choice?.notice ? { starter: new RuntimeUnavailableStarter(choice.notice) } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    });
    const schedules = startSchedules(
      previewRuntime
        ? [
            {
              name: 'sample-resources',
              everySeconds: config.resourceSampleSeconds,
              invoke: localSchedules['sample-resources'].load,
            },
            {
              // Each preview is checked on its own interval; this is how often that is looked at.
              name: 'check-health',
              everySeconds: healthTickSeconds,
              invoke: eventFunctions['check-health'].module.load,
            },
            {
              name: 'sweep-previews',
              everySeconds: config.sweepSeconds,
              invoke: eventFunctions['sweep-previews'].module.load,
            },
          ]
        : [],
    );
    // Logs first: what a task printed while the service was down is read before its task events
    // can recover it (a recovery removes the old task's containers).
    const logFollower = await previewRuntime?.watchLogs?.();
    const taskEvents = await previewRuntime?.watchTaskEvents?.(async (event) => {
      const { handler } = await eventFunctions['task-state-change'].module.load();
      await handler(event);
    });
    const runningGateway = gateway;
    return {
      url: gateway.url,
      config,
      runnerKind: previewRuntime?.runner.kind,
      notice: choice?.notice ?? previewRuntime?.notice,
      logs,
      dynamoDb: dynamo
        ? options.dataDir
          ? join(options.dataDir, 'dynamodb')
          : 'in memory'
        : process.env.AWS_ENDPOINT_URL_DYNAMODB,
      async close() {
        await logFollower?.stop();
        await logs.close();
        await runningGateway.close();
        await schedules.stop();
        await taskEvents?.stop();
        // Snapshot builds are cut off first: a launch's job ends with the build it started.
        await previewRuntime?.close?.();
        await previewRuntime?.starter.drain();
        if (dynamo) {
          await dynamo.close();
          delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
        }
        if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await logs.close();
    await gateway?.close();
    await dynamo?.close();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    throw error;
  }
}
