import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/handlers/authorizer.js';
import { useServiceOverrides } from '../../../functions/handlers/services.js';

const secret = 'authorizer-test-secret-authorizer-test';
const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/api/previews';

const token = (claims: Record<string, unknown>) =>
  new SignJWT({ tier: 'pro', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .sign(new TextEncoder().encode(secret));

const authorize = async (jwt: string) =>
  handler({ type: 'TOKEN', authorizationToken: `Bearer ${jwt}`, methodArn });

beforeAll(() => {
  Object.assign(process.env, {
    PREVIEW_JWT_SECRET: secret,
    PREVIEW_AUTHORIZER_CACHE_SECONDS: '60',
    AWS_REGION: 'eu-west-1',
  });
  useServiceOverrides({});
});

describe('the TOKEN authorizer', () => {
  it("allows the stage and tells the gateway the token's expiry, so no cache keeps it longer", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    expect(await authorize(await token({ exp }))).toEqual({
      principalId: 'alice',
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
      context: { tier: 'pro', tokenExpiresAt: exp },
    });
  });

  it('refuses (401) a token without exp, and one with less than the cache TTL left', async () => {
    await expect(authorize(await token({}))).rejects.toThrow('Unauthorized');
    const soon = Math.floor(Date.now() / 1000) + 30;
    await expect(authorize(await token({ exp: soon }))).rejects.toThrow('Unauthorized');
  });
});
