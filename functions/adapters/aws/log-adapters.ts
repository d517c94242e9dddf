import { z } from 'zod';
import { ConfigError } from '../../core/config.js';
import type { LogAdapters } from '../../core/log-ports.js';
import { cloudWatchLogs, ecs, lambda } from './clients.js';
import { CloudWatchLogStore } from './cloudwatch-log-store.js';
import { EcsLogSources } from './ecs-log-sources.js';
import { LambdaReplayStarter } from './lambda-replay-starter.js';

const required = 'is required for logs and the WebSocket API';

const settingsSchema = z.object({
  /** The WebSocket API stage's `@connections` endpoint; its presence turns the log pipeline on. */
  PREVIEW_WEBSOCKET_MANAGEMENT_URL: z.url(),
  PREVIEW_LOG_GROUP: z.string(required).min(1, required),
  PREVIEW_ECS_CLUSTER: z.string(required).min(1, required),
  /** The function that replays lines to a new connection (invoked asynchronously). */
  PREVIEW_LOG_REPLAY_FUNCTION: z.string(required).min(1, required),
});

/**
 * The log pipeline in AWS: CloudWatch Logs as the store, ECS to map tasks to previews, a Lambda
 * for replays. Undefined where the stack gives a function no WebSocket endpoint. Large exports
 * need S3 presigned URLs, which this build does not include: they answer 501.
 */
export function awsLogAdapters(env: Readonly<Record<string, string | undefined>>): LogAdapters | undefined {
  if (!env.PREVIEW_WEBSOCKET_MANAGEMENT_URL) return undefined;
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  }
  const settings = parsed.data;
  const sources = new EcsLogSources(ecs(), settings.PREVIEW_ECS_CLUSTER);
  return {
    store: new CloudWatchLogStore(cloudWatchLogs(), settings.PREVIEW_LOG_GROUP, sources),
    sources,
    replay: new LambdaReplayStarter(lambda(), settings.PREVIEW_LOG_REPLAY_FUNCTION),
    exports: undefined,
    managementEndpoint: settings.PREVIEW_WEBSOCKET_MANAGEMENT_URL,
  };
}
