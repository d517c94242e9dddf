import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { gzipSync } from 'node:zlib';
import type { FanOutSlicer, LogBatch } from '#core/log-ports.js';

/** Lambda's limit on an asynchronous invocation's payload. */
const maxEventPayloadBytes = 256 * 1024;

/**
 * Hands a slice of a preview's connections to another instance of the fan-out function: an
 * asynchronous invocation of itself with the batch as CloudWatch encodes it (gzip, base64) and the
 * connection ids of the slice.
 */
export class LambdaFanOutSlicer implements FanOutSlicer {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async start(batch: LogBatch, connectionIds: readonly string[]): Promise<void> {
    const data = gzipSync(
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        owner: '',
        logGroup: batch.logGroup,
        logStream: batch.logStream,
        subscriptionFilters: [],
        logEvents: batch.events,
      }),
    ).toString('base64');
    const payload = Buffer.from(JSON.stringify({ awslogs: { data }, connectionIds }));
    if (payload.length > maxEventPayloadBytes) {
      throw new Error(`a fan-out slice of ${payload.length} bytes is over Lambda's ${maxEventPayloadBytes}`);
    }
    await this.client.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: payload }),
    );
  }
}
