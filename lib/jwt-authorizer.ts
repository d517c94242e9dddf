import { fileURLToPath } from 'node:url';
import { Annotations, Duration } from 'aws-cdk-lib';
import { IdentitySource, TokenAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { defaultAuthorizerCacheSeconds } from '#core/config.js';
import { authorizerModule } from '#handlers/registry.js';
import { ServiceFunction, type FunctionDefaults } from './service-function.js';
import type { JwtSettings } from './stage-config.js';

export interface JwtAuthorizerProps {
  readonly defaults: FunctionDefaults;
  readonly jwt: JwtSettings;
}

/** Matches `Bearer <jwt>` so API Gateway turns malformed headers away without invoking the function. */
export const bearerTokenPattern =
  '^[Bb][Ee][Aa][Rr][Ee][Rr] +[-0-9A-Za-z_]+\\.[-0-9A-Za-z_]+\\.[-0-9A-Za-z_]+ *$';

/** The variables the service's configuration reads the JWT settings from; absent settings are left out. */
function jwtEnvironment(jwt: JwtSettings): Record<string, string> {
  const environment: Record<string, string> = {};
  if (jwt.jwksUrl !== undefined) environment.PREVIEW_JWT_JWKS_URL = jwt.jwksUrl;
  if (jwt.issuer !== undefined) environment.PREVIEW_JWT_ISSUER = jwt.issuer;
  if (jwt.audience !== undefined) environment.PREVIEW_JWT_AUDIENCE = jwt.audience;
  return environment;
}

/**
 * Verifies the SaaS's bearer JWT in front of every authenticated route. Decisions are cached per
 * token for `defaultAuthorizerCacheSeconds`, so the function's policy must allow the whole API, not
 * one method. The TTL is one for all tokens; the function therefore refuses a token with less than
 * the TTL left before its `exp`, so no cached Allow outlives its token.
 */
export class JwtAuthorizer extends Construct {
  readonly function: ServiceFunction;
  readonly authorizer: TokenAuthorizer;

  constructor(scope: Construct, id: string, props: JwtAuthorizerProps) {
    super(scope, id);

    if (props.jwt.jwksUrl === undefined) {
      Annotations.of(this).addWarningV2(
        'preview-service:jwtJwksUrlMissing',
        'No "jwtJwksUrl" context: the functions get no keys to verify tokens with, and the ' +
          'service configuration requires them, so requests will fail. ' +
          'Pass -c jwtJwksUrl=https://... (and jwtIssuer, jwtAudience).',
      );
    }

    this.function = new ServiceFunction(this, 'Handler', {
      entry: fileURLToPath(authorizerModule.entry),
      description: 'Verifies the bearer JWT of REST API requests',
      defaults: props.defaults,
      environment: {
        ...jwtEnvironment(props.jwt),
        PREVIEW_AUTHORIZER_CACHE_SECONDS: String(defaultAuthorizerCacheSeconds),
      },
      // Leaves room within API Gateway's 29 s for the route's own function.
      timeout: Duration.seconds(10),
    });

    this.authorizer = new TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: this.function.function,
      authorizerName: 'preview-jwt',
      identitySource: IdentitySource.header('Authorization'),
      validationRegex: bearerTokenPattern,
      resultsCacheTtl: Duration.seconds(defaultAuthorizerCacheSeconds),
    });
  }
}
