import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { decodeJwt, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '#handlers/authorizer.js';
import { logger } from '#handlers/logger.js';
import { authorizerServices, services, useServiceOverrides } from '#handlers/services.js';

const secret = 'authorizer-test-secret-of-enough-length';
const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/api/previews';

const event = (authorizationToken: string): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  authorizationToken,
  methodArn,
});

async function token(claims: Record<string, unknown>) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

/** Counts of the service metrics the authorizer emits. */
function countedMetrics() {
  const counted: string[] = [];
  vi.spyOn(authorizerServices().serviceMetrics, 'count').mockImplementation((name) => {
    counted.push(name);
  });
  return counted;
}

beforeEach(() => {
  vi.stubEnv('PREVIEW_JWT_SECRET', secret);
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  useServiceOverrides({});
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  useServiceOverrides({});
});

describe('authorizer', () => {
  it('allows a valid token for the whole stage, and counts nothing', async () => {
    const counted = countedMetrics();
    const jwt = await token({ sub: 'user-1', tier: 'pro' });
    const result = await handler(event(`Bearer ${jwt}`));
    expect(result).toEqual({
      principalId: 'user-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*',
          },
        ],
      },
      // The token's expiry: the gateway's cache must not keep the decision longer.
      context: { tier: 'pro', tokenExpiresAt: decodeJwt(jwt).exp },
    });
    expect(counted).toEqual([]);
  });

  it('denies (401: "Unauthorized") a missing, forged or claimless token, and counts each denial', async () => {
    const counted = countedMetrics();
    const forged = await new SignJWT({ sub: 'user-1', tier: 'pro' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-of-enough-length'));
    for (const header of ['', 'Basic abc', `Bearer ${forged}`, `Bearer ${await token({ sub: 'user-1' })}`]) {
      await expect(handler(event(header)), header).rejects.toThrow(/^Unauthorized$/);
    }
    expect(counted).toEqual(Array(4).fill('AuthorizerDenials'));
  });

  it('fails (500) without counting a denial when the keys cannot be fetched: the service’s fault', async () => {
    vi.stubEnv('PREVIEW_JWT_JWKS_URL', 'http://127.0.0.1:9/.well-known/jwks.json');
    vi.stubEnv('PREVIEW_JWT_ISSUER', 'https://auth.example.com/');
    vi.stubEnv('PREVIEW_JWT_AUDIENCE', 'preview-service');
    useServiceOverrides({});
    const counted = countedMetrics();
    const log = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const rs256 = [
      Buffer.from('{"alg":"RS256","kid":"k1"}').toString('base64url'),
      Buffer.from('{"sub":"user-1","tier":"pro"}').toString('base64url'),
      'c2lnbmF0dXJl',
    ].join('.');
    const failure = await handler(event(`Bearer ${rs256}`)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('The token could not be verified.');
    expect(counted).toEqual([]);
    expect(log).toHaveBeenCalledOnce();
  });

  it('builds only the token verifier: it works where the rest of the service could not be built', async () => {
    // The ECS runner without its settings: every other function refuses to start.
    vi.stubEnv('PREVIEW_RUNNER', 'ecs');
    useServiceOverrides({});
    expect(() => services()).toThrow(/PREVIEW_ECS_CLUSTER: is required/);
    const counted = countedMetrics();
    const result = await handler(event(`Bearer ${await token({ sub: 'user-2', tier: 'free' })}`));
    expect(result.principalId).toBe('user-2');
    await expect(handler(event('Bearer not-a-token'))).rejects.toThrow(/^Unauthorized$/);
    expect(counted).toEqual(['AuthorizerDenials']);
  });

  it('refuses (401) a token without exp, and one with less than the cache TTL left', async () => {
    const unexpiring = await new SignJWT({ sub: 'user-1', tier: 'pro' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
    await expect(handler(event(`Bearer ${unexpiring}`))).rejects.toThrow(/^Unauthorized$/);
    const soon = await new SignJWT({ sub: 'user-1', tier: 'pro' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 30)
      .sign(new TextEncoder().encode(secret));
    await expect(handler(event(`Bearer ${soon}`))).rejects.toThrow(/^Unauthorized$/);
  });
});
