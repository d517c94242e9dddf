import { systemClock } from '#core/clock.js';
import type { LogPipelineConfig } from '#core/config.js';
import type { LogAdapters } from '#core/log-ports.js';
import { cloudWatchLogs, dynamoDocumentClient, ecs, lambda, s3 } from './clients.js';
import { DynamoDbRedactionLists } from './dynamodb-redaction-lists.js';
import { CloudWatchLogStore } from './cloudwatch-log-store.js';
import { EcsLogSources } from './ecs-log-sources.js';
import { LambdaFanOutSlicer } from './lambda-fan-out-slicer.js';
import { LambdaReplayStarter } from './lambda-replay-starter.js';
import { S3ExportStore } from './s3-export-store.js';

/**
 * The log pipeline in AWS: CloudWatch Logs as the store, ECS to map tasks to previews, a Lambda
 * for replays (and, in the fan-out function, for slices of a large audience), S3 for large exports.
 * Without an exports bucket, large exports answer 501.
 */
export function awsLogAdapters(config: LogPipelineConfig): LogAdapters {
  const sources = new EcsLogSources(
    ecs(),
    config.cluster,
    new DynamoDbRedactionLists(dynamoDocumentClient(), config.redactionsTable),
  );
  return {
    store: new CloudWatchLogStore(cloudWatchLogs(), config.logGroup, sources),
    sources,
    replay: new LambdaReplayStarter(lambda(), config.replayFunction),
    exports: config.exportsBucket
      ? new S3ExportStore(s3(), config.exportsBucket, config.exportsPrefix, systemClock)
      : undefined,
    managementEndpoint: config.managementEndpoint,
    ...(config.fanOutFunction ? { slicer: new LambdaFanOutSlicer(lambda(), config.fanOutFunction) } : {}),
  };
}
