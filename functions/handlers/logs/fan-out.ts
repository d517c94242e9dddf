import { CloudWatchLogsSchema } from '@aws-lambda-powertools/parser/schemas/cloudwatch';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import type { FanOutResult } from '../../core/services/log-fan-out.js';
import { serviceMetricNames } from '../../core/service-metrics.js';
import { lambdaHandler } from '../lambda-handler.js';
import { requireLogs } from '../log-services.js';
import { logger } from '../logger.js';
import { services } from '../services.js';

/**
 * The log group's subscription filter: each delivery is one stream's new lines. Powertools' schema
 * decodes the payload (base64, gzip, JSON) and checks its shape; the lines are parsed, redacted and
 * sent to the preview's WebSocket clients. CloudWatch's control messages (sent when the subscription
 * is set up) are skipped. A payload that is not CloudWatch's is refused: logged, not thrown, since
 * retrying the same bytes cannot help.
 */
export const handler = lambdaHandler(
  async (event: CloudWatchLogsEvent): Promise<FanOutResult | undefined> => {
    const started = performance.now();
    const parsed = CloudWatchLogsSchema.safeParse(event);
    if (!parsed.success) {
      logger.error('refused a log subscription event that is not a CloudWatch Logs payload', {
        problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      });
      return undefined;
    }
    const payload = parsed.data.awslogs.data;
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
