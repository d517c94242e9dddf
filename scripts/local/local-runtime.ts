import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig, type Config } from '../../functions/core/config.js';
import { useServiceOverrides, type ServiceOverrides } from '../../functions/handlers/services.js';
import { localJwtSecret } from './dev-secret.js';
import { startGateway, type LocalGateway } from './gateway.js';
import { createLocalPreviewRuntime } from './preview-runtime.js';
import { startSchedules } from './scheduler.js';
import { ensureTables, startLocalDynamoDb, type LocalDynamoDb } from './local-dynamodb.js';

export interface LocalRuntime {
  readonly url: string;
  readonly config: Config;
  /** Where the local DynamoDB keeps its data, or the external endpoint in use. */
  readonly dynamoDb: string;
  /** Where previews run; undefined when the caller supplied its own runtime. */
  readonly runnerKind: string | undefined;
  readonly notice: string | undefined;
  close(): Promise<void>;
}

export interface LocalRuntimeOptions {
  readonly port: number;
  /** Folder for local state (DynamoDB data); `undefined` keeps it in memory. */
  readonly dataDir: string | undefined;
  /** Replaces the local preview runtime (Docker or processes) that is created otherwise. */
  readonly overrides?: ServiceOverrides;
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
  process.env.PREVIEW_JWT_SECRET = localJwtSecret();

  let dynamo: LocalDynamoDb | undefined;
  if (!process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    dynamo = await startLocalDynamoDb({ path: options.dataDir && join(options.dataDir, 'dynamodb') });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  }
  let gateway: LocalGateway | undefined;
  try {
    gateway = await startGateway({ port: options.port });
    process.env.PREVIEW_PUBLIC_URL = gateway.url;
    const config = loadConfig();
    await ensureTables(process.env.AWS_ENDPOINT_URL_DYNAMODB, config.tables);
    const previewRuntime = options.overrides
      ? undefined
      : await createLocalPreviewRuntime(config, options.dataDir ?? join(tmpdir(), 'preview-service'));
    useServiceOverrides(options.overrides ?? { runtime: previewRuntime });
    const schedules = startSchedules(
      previewRuntime
        ? [
            {
              name: 'sample-resources',
              everySeconds: config.resourceSampleSeconds,
              invoke: () => import('../../functions/handlers/schedules/sample-resources.js'),
            },
          ]
        : [],
    );
    const taskEvents = await previewRuntime?.watchTaskEvents?.(async (event) => {
      const { handler } = await import('../../functions/handlers/events/task-state-change.js');
      await handler(event);
    });
    const runningGateway = gateway;
    return {
      url: gateway.url,
      config,
      runnerKind: previewRuntime?.runner.kind,
      notice: previewRuntime?.notice,
      dynamoDb: dynamo
        ? options.dataDir
          ? join(options.dataDir, 'dynamodb')
          : 'in memory'
        : process.env.AWS_ENDPOINT_URL_DYNAMODB,
      async close() {
        await runningGateway.close();
        await schedules.stop();
        await taskEvents?.stop();
        await previewRuntime?.starter.drain();
        if (dynamo) {
          await dynamo.close();
          delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
        }
      },
    };
  } catch (error) {
    await gateway?.close();
    await dynamo?.close();
    throw error;
  }
}
