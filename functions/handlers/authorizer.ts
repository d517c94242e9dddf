import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { bearerToken } from '../core/token-verifier.js';
import { tokenVerifier } from './services.js';

/**
 * API Gateway TOKEN authorizer. The policy covers the whole stage so API Gateway can cache
 * one decision per token; throwing "Unauthorized" is how API Gateway is told to answer 401.
 */
export const handler = async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const token = bearerToken(event.authorizationToken);
  if (!token) throw new Error('Unauthorized');
  const identity = await tokenVerifier()
    .verify(token)
    .catch(() => {
      throw new Error('Unauthorized');
    });
  const [arnPrefix, stage] = event.methodArn.split('/');
  return {
    principalId: identity.userId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${arnPrefix}/${stage}/*` }],
    },
    // The token's expiry bounds how long a gateway may remember this decision.
    context: { tier: identity.tier, tokenExpiresAt: identity.expiresAtEpoch },
  };
};
