import { DeleteParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** DeleteParameters takes at most ten names per call. */
const deleteBatch = 10;

/**
 * Writes secret values as SecureString parameters under the stage's key. A name written before (a
 * restarted preview, a build of the same key started meanwhile) takes the new value.
 */
export async function writeSecureParameters(
  ssm: SSMClient,
  keyId: string,
  parameters: readonly { readonly parameterName: string; readonly value: string }[],
): Promise<void> {
  await Promise.all(
    parameters.map((parameter) =>
      ssm.send(
        new PutParameterCommand({
          Name: parameter.parameterName,
          Value: parameter.value,
          Type: 'SecureString',
          KeyId: keyId,
          Tier: 'Standard',
          Overwrite: true,
        }),
      ),
    ),
  );
}

export async function deleteParameters(ssm: SSMClient, names: readonly string[]): Promise<void> {
  for (let start = 0; start < names.length; start += deleteBatch) {
    await ssm.send(new DeleteParametersCommand({ Names: names.slice(start, start + deleteBatch) }));
  }
}
