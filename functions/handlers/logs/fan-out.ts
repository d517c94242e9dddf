import { CloudWatchLogsSchema } from '@aws-lambda-powertools/parser/schemas/cloudwatch';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { z } from 'zod';
import type { FanOutResult } from '#core/services/log-fan-out.js';
import { serviceMetricNames } from '#core/service-metrics.js';
import { lambdaHandler } from '../lambda-handler.js';
import { requireLogs } from '../log-services.js';
import { logger } from '../logger.js';
import { services } from '../services.js';

/**
 * A delivery of the subscription, or a slice of one that another fan-out handed over: the same
 * payload, and the connections this invocation sends to.
 */
export type FanOutEvent = CloudWatchLogsEvent & { readonly connectionIds?: readonly string[] };

const sliceSchema = z.object({
  connectionIds: z.array(z.string().min(1).max(128)).min(1).max(10_000).optional(),
});

/**
 * The log group's subscription filter: each delivery is one stream's new lines. Powertools' schema
 * decodes the payload (base64, gzip, JSON) and checks its shape; the lines are parsed, redacted and
 * sent to the preview's WebSocket clients (a large audience in slices, by parallel invocations of
 * this function). CloudWatch's control messages (sent when the subscription is set up) are skipped.
 * A payload that is not CloudWatch's is refused: logged, not thrown, since retrying the same bytes
 * cannot help.
 */
export const handler = lambdaHandler(async (event: FanOutEvent): Promise<FanOutResult | undefined> => {
  const started = performance.now();
  const parsed = CloudWatchLogsSchema.safeParse(event);
  const slice = sliceSchema.safeParse(event);
  if (!parsed.success || !slice.success) {
    const issues = [...(parsed.error?.issues ?? []), ...(slice.error?.issues ?? [])];
    logger.error('refused a log subscription event that is not a CloudWatch Logs payload', {
      problems: issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    });
    return undefined;
  }
  const payload = parsed.data.awslogs.data;
  if (payload.messageType !== 'DATA_MESSAGE') return undefined;
  const { logs, serviceMetrics } = services();
  const result = await requireLogs(logs).fanOut.deliver(
    { logGroup: payload.logGroup, logStream: payload.logStream, events: payload.logEvents },
    slice.data.connectionIds,
  );
  if (!result.previewId) logger.debug('log stream of no known preview', { logStream: payload.logStream });
  if (result.connections > 0) {
    serviceMetrics.milliseconds(serviceMetricNames.fanOutLatency, performance.now() - started);
  }
  if (result.failed > 0) logger.warn('fan-out: some connections could not be sent to', { ...result });
  return result;
});
