import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { AppError } from '#core/errors.js';
import { serviceMetricNames } from '#core/service-metrics.js';
import { bearerToken } from '#core/token-verifier.js';
import { logger } from './logger.js';
import { lambdaHandler } from './lambda-handler.js';
import { authorizerServices } from './services.js';

/**
 * Throwing exactly "Unauthorized" is how a TOKEN authorizer makes API Gateway answer 401; Lambda
 * counts it as an error all the same. Each such denial is counted (`AuthorizerDenials`), so alarms
 * watch the errors that are not denials: the service's own faults, which API Gateway answers with 500.
 */
function deny(): never {
  authorizerServices().serviceMetrics.count(serviceMetricNames.authorizerDenials);
  throw new Error('Unauthorized');
}

/**
 * API Gateway TOKEN authorizer. The policy covers the whole stage so API Gateway can cache one
 * decision per token.
 */
async function authorize(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = bearerToken(event.authorizationToken);
  if (!token) deny();
  let identity;
  try {
    identity = await authorizerServices().verifier.verify(token);
  } catch (error) {
    if (error instanceof AppError && error.code === 'unauthorized') deny();
    logger.error('the token could not be verified', { error });
    throw new Error('The token could not be verified.', { cause: error });
  }
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
}

export const handler = lambdaHandler(authorize);
