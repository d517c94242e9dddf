import { z } from 'zod';
import { systemClock } from '../../core/clock.js';
import { ConfigError } from '../../core/config.js';
import type { LogAdapters } from '../../core/log-ports.js';
import { cloudWatchLogs, dynamoDocumentClient, ecs, lambda, s3 } from './clients.js';
import { DynamoDbRedactionLists } from './dynamodb-redaction-lists.js';
import { CloudWatchLogStore } from './cloudwatch-log-store.js';
import { EcsLogSources } from './ecs-log-sources.js';
import { LambdaReplayStarter } from './lambda-replay-starter.js';
import { S3ExportStore } from './s3-export-store.js';

const required = 'is required for logs and the WebSocket API';

const settingsSchema = z.object({
  /** The WebSocket API stage's `@connections` endpoint; its presence turns the log pipeline on. */
  PREVIEW_WEBSOCKET_MANAGEMENT_URL: z.url(),
  PREVIEW_LOG_GROUP: z.string(required).min(1, required),
  PREVIEW_ECS_CLUSTER: z.string(required).min(1, required),
  /** The function that replays lines to a new connection (invoked asynchronously). */
  PREVIEW_LOG_REPLAY_FUNCTION: z.string(required).min(1, required),
  /** Each preview's redaction list, kept as long as its logs. */
  PREVIEW_REDACTIONS_TABLE: z.string(required).min(3, required),
  /** Where large exports go; only the export function has it, the others never store exports. */
  PREVIEW_EXPORTS_BUCKET: z.string().optional(),
  PREVIEW_EXPORTS_PREFIX: z.string().default('exports/'),
});

/**
 * The log pipeline in AWS: CloudWatch Logs as the store, ECS to map tasks to previews, a Lambda
 * for replays, S3 for large exports. Undefined where the stack gives a function no WebSocket
 * endpoint. Without an exports bucket, large exports answer 501.
 */
export function awsLogAdapters(env: Readonly<Record<string, string | undefined>>): LogAdapters | undefined {
  if (!env.PREVIEW_WEBSOCKET_MANAGEMENT_URL) return undefined;
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  }
  const settings = parsed.data;
  const sources = new EcsLogSources(
    ecs(),
    settings.PREVIEW_ECS_CLUSTER,
    new DynamoDbRedactionLists(dynamoDocumentClient(), settings.PREVIEW_REDACTIONS_TABLE),
  );
  return {
    store: new CloudWatchLogStore(cloudWatchLogs(), settings.PREVIEW_LOG_GROUP, sources),
    sources,
    replay: new LambdaReplayStarter(lambda(), settings.PREVIEW_LOG_REPLAY_FUNCTION),
    exports: settings.PREVIEW_EXPORTS_BUCKET
      ? new S3ExportStore(s3(), settings.PREVIEW_EXPORTS_BUCKET, settings.PREVIEW_EXPORTS_PREFIX, systemClock)
      : undefined,
    managementEndpoint: settings.PREVIEW_WEBSOCKET_MANAGEMENT_URL,
  };
}
