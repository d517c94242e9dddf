import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { gunzipSync, gzipSync } from 'node:zlib';

/** CloudWatch Logs subscription events: `awslogs.data` is the JSON payload, gzipped, in base64. */

export function decodeSubscriptionEvent(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
}

export function encodeSubscriptionEvent(payload: CloudWatchLogsDecodedData): CloudWatchLogsEvent {
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}
