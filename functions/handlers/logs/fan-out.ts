import type { CloudWatchLogsEvent } from 'aws-lambda';
import type { FanOutResult } from '../../core/services/log-fan-out.js';
import { serviceMetricNames } from '../../core/service-metrics.js';
import { lambdaHandler } from '../lambda-handler.js';
import { requireLogs } from '../log-services.js';
import { logger } from '../logger.js';
import { services } from '../services.js';
import { decodeSubscriptionEvent } from './subscription-event.js';

/**
 * The log group's subscription filter: each delivery is one stream's new lines. They are parsed,
 * redacted and sent to the preview's WebSocket clients; CloudWatch's control messages (sent when
 * the subscription is set up) are skipped.
 */
export const handler = lambdaHandler(
  async (event: CloudWatchLogsEvent): Promise<FanOutResult | undefined> => {
    const started = performance.now();
    const payload = decodeSubscriptionEvent(event);
    if (payload.messageType !== 'DATA_MESSAGE') return undefined;
    const { logs, serviceMetrics } = services();
    const result = await requireLogs(logs).fanOut.deliver({
      logGroup: payload.logGroup,
      logStream: payload.logStream,
      events: payload.logEvents,
    });
    if (!result.previewId) logger.debug('log stream of no known preview', { logStream: payload.logStream });
    if (result.connections > 0) {
      serviceMetrics.milliseconds(serviceMetricNames.fanOutLatency, performance.now() - started);
    }
    if (result.failed > 0) logger.warn('fan-out: some connections could not be sent to', { ...result });
    return result;
  },
);
