import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/core/config.js';
import { bearerToken, createTokenVerifier } from '../../functions/core/token-verifier.js';
import { mintToken } from '../../scripts/local/mint-token.js';

const jwt = {
  secret: 'a-test-secret-that-is-long-enough',
  jwksUrl: undefined,
  issuer: undefined,
  audience: undefined,
};

describe('token verifier', () => {
  it('accepts a token signed with the shared secret and reads sub and tier', async () => {
    const token = await mintToken(jwt.secret, 'alice', 'pro');
    await expect(createTokenVerifier(jwt).verify(token)).resolves.toEqual({ userId: 'alice', tier: 'pro' });
  });

  it('refuses a wrong signature, an expired token and a token without a tier', async () => {
    const verifier = createTokenVerifier(jwt);
    await expect(
      verifier.verify(await mintToken('another-secret-entirely', 'alice', 'pro')),
    ).rejects.toMatchObject({ status: 401 });
    const expired = await new SignJWT({ tier: 'free' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(jwt.secret));
    await expect(verifier.verify(expired)).rejects.toMatchObject({ status: 401 });
    const tierless = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode(jwt.secret));
    await expect(verifier.verify(tierless)).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/tier/),
    });
    await expect(verifier.verify('not.a.jwt')).rejects.toMatchObject({ status: 401 });
  });

  it('checks issuer and audience when configured', async () => {
    const verifier = createTokenVerifier({ ...jwt, issuer: 'https://saas.example', audience: 'preview' });
    const sign = (iss: string) =>
      new SignJWT({ tier: 'free' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setIssuer(iss)
        .setAudience('preview')
        .sign(new TextEncoder().encode(jwt.secret));
    await expect(verifier.verify(await sign('https://saas.example'))).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(verifier.verify(await sign('https://evil.example'))).rejects.toMatchObject({ status: 401 });
  });

  it('verifies RS256 tokens against a JWKS endpoint', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const server = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const verifier = createTokenVerifier({ ...jwt, secret: undefined, jwksUrl: url });
      const token = await new SignJWT({ tier: 'enterprise' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('bob')
        .sign(privateKey);
      await expect(verifier.verify(token)).resolves.toEqual({ userId: 'bob', tier: 'enterprise' });
      await expect(verifier.verify(await mintToken(jwt.secret, 'bob', 'pro'))).rejects.toMatchObject({
        status: 401,
      });
    } finally {
      server.close();
    }
  });

  it('needs a secret or a JWKS URL', () => {
    expect(() => createTokenVerifier({ ...jwt, secret: undefined })).toThrow(ConfigError);
  });

  it('reads bearer tokens from the Authorization header', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
