import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayConnectionChannel } from '#adapters/aws/api-gateway-connection-channel.js';
import { apiGatewayManagement } from '#adapters/aws/clients.js';
import { DynamoDbConnectionStore } from '#adapters/aws/dynamodb-connection-store.js';
import { DynamoDbPreviewTokenIndex } from '#adapters/aws/dynamodb-preview-token-index.js';
import type { Clock } from '#core/clock.js';
import type { Config } from '#core/config.js';
import { AppError } from '#core/errors.js';
import type { LogAdapters } from '#core/log-ports.js';
import type { MetricsStore, PreviewStore } from '#core/ports.js';
import { LiveConnections } from '#core/services/live-connections.js';
import { CachedConnectionStore } from '#core/services/cached-connection-store.js';
import { LiveDelivery } from '#core/services/live-delivery.js';
import { LogFanOut } from '#core/services/log-fan-out.js';
import type { LogQueries } from '#core/services/log-queries.js';
import { logger } from './logger.js';

/** Logs and the live stream: the fan-out, the WebSocket connections, queries and exports. */
export interface LogServices {
  readonly fanOut: LogFanOut;
  readonly live: LiveConnections;
  readonly queries: LogQueries;
}

/** The live half, built before the preview service, which tells it about status changes. */
export function liveServices(
  adapters: LogAdapters,
  deps: {
    readonly client: DynamoDBDocumentClient;
    readonly config: Config;
    readonly previews: PreviewStore;
    readonly metrics: MetricsStore;
    readonly clock: Clock;
  },
): Pick<LogServices, 'fanOut' | 'live'> {
  const stored = new DynamoDbConnectionStore(deps.client, deps.config.tables.connections);
  const { connectionCacheMs } = deps.config.fanOut;
  const connections =
    connectionCacheMs > 0 ? new CachedConnectionStore(stored, connectionCacheMs, deps.clock) : stored;
  const { concurrency } = deps.config.fanOut;
  const channel =
    adapters.channel ??
    new ApiGatewayConnectionChannel(apiGatewayManagement(adapters.managementEndpoint, concurrency));
  const onError = (error: unknown, context: string) =>
    logger.warn('live stream: sending failed', { error, context });
  const delivery = new LiveDelivery({ connections, channel, concurrency, onError });
  const live = new LiveConnections({
    previews: deps.previews,
    tokens: new DynamoDbPreviewTokenIndex(deps.client, deps.config.tables.previews),
    connections,
    channel,
    delivery,
    logs: adapters.store,
    replay: adapters.replay,
    metrics: deps.metrics,
    clock: deps.clock,
    urls: { api: deps.config.publicUrl, websocket: deps.config.websocketUrl },
    maxConnectionsPerPreview: deps.config.limits.connectionsPerPreview,
    onError,
  });
  return {
    live,
    fanOut: new LogFanOut({
      sources: adapters.sources,
      store: adapters.store,
      connections,
      delivery,
      slicer: adapters.slicer,
      sliceConnections: deps.config.fanOut.sliceConnections,
      onSliceError: (error) =>
        logger.warn('fan-out: a slice is sent here, not by a parallel fan-out', { error }),
    }),
  };
}

/** The log services, or 501 where the environment configures none. */
export function requireLogs(logs: LogServices | undefined): LogServices {
  if (!logs) {
    throw new AppError(
      'not_implemented',
      'Logs and the live stream are not configured in this environment (PREVIEW_WEBSOCKET_MANAGEMENT_URL and the log settings).',
    );
  }
  return logs;
}
