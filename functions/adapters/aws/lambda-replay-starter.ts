import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { LiveConnection, ReplayStarter } from '#core/log-ports.js';

/** Starts a replay as an asynchronous invocation of the replay function, after `$connect` answered. */
export class LambdaReplayStarter implements ReplayStarter {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async start(connection: Pick<LiveConnection, 'connectionId' | 'previewId'>): Promise<void> {
    await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(
          JSON.stringify({ connectionId: connection.connectionId, previewId: connection.previewId }),
        ),
      }),
    );
  }
}
