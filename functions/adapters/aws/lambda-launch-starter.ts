import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { LaunchStarter } from '#core/ports.js';

/** Starts a launch by invoking the start-preview function asynchronously (`Event`): the route answers at once. */
export class LambdaLaunchStarter implements LaunchStarter {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async start(preview: { previewId: string }): Promise<void> {
    await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ previewId: preview.previewId })),
      }),
    );
  }
}
