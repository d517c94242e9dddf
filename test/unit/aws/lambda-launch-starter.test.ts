import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { LambdaLaunchStarter } from '#adapters/aws/lambda-launch-starter.js';

describe('LambdaLaunchStarter', () => {
  it('invokes the start-preview function asynchronously with the preview id', async () => {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await new LambdaLaunchStarter(new LambdaClient({ region: 'eu-west-1' }), 'preview-start').start({
      previewId: 'preview_0mwwx1ng4c34951cc68ff4c71',
    });
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call?.args[0].input).toEqual({
      FunctionName: 'preview-start',
      InvocationType: 'Event',
      Payload: Buffer.from('{"previewId":"preview_0mwwx1ng4c34951cc68ff4c71"}'),
    });
    lambda.restore();
  });
});
