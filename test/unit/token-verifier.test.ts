import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, type JwtConfig } from '#core/config.js';
import { bearerToken, createTokenVerifier } from '#core/token-verifier.js';
import { mintToken } from '#local/mint-token.js';

const jwt: JwtConfig = {
  secret: 'a-test-secret-that-is-long-enough',
  jwksUrl: undefined,
  issuer: undefined,
  audience: undefined,
  maxAgeSeconds: undefined,
  cacheSeconds: 60,
};
const key = new TextEncoder().encode(jwt.secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token with exactly these claims (and `sub`), nothing added. */
const signed = (claims: JWTPayload) =>
  new SignJWT({ tier: 'free', ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);

describe('token verifier', () => {
  it('accepts a token signed with the shared secret and reads sub, tier and exp', async () => {
    const token = await mintToken(jwt.secret as string, 'alice', 'pro', 3600);
    await expect(createTokenVerifier(jwt).verify(token)).resolves.toEqual({
      userId: 'alice',
      tier: 'pro',
      expiresAtEpoch: expect.closeTo(nowSeconds() + 3600, 5),
    });
  });

  it('refuses a wrong signature, an expired token and a token without a tier', async () => {
    const verifier = createTokenVerifier(jwt);
    await expect(
      verifier.verify(await mintToken('another-secret-entirely-another-secret', 'alice', 'pro')),
    ).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(verifier.verify(await signed({ exp: nowSeconds() - 60 }))).rejects.toMatchObject({
      code: 'unauthorized',
    });
    const tierless = await new SignJWT({ exp: nowSeconds() + 3600 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(key);
    await expect(verifier.verify(tierless)).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringMatching(/tier/),
    });
    await expect(verifier.verify('not.a.jwt')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a token without exp', async () => {
    const verifier = createTokenVerifier(jwt);
    await expect(verifier.verify(await signed({}))).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(verifier.verify(await signed({ iat: nowSeconds() }))).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(verifier.verify(await signed({ exp: nowSeconds() + 3600 }))).resolves.toMatchObject({
      userId: 'alice',
    });
  });

  it('refuses a token with less than the cache TTL left, so no cached decision outlives it', async () => {
    const verifier = createTokenVerifier({ ...jwt, cacheSeconds: 60 });
    await expect(verifier.verify(await signed({ exp: nowSeconds() + 30 }))).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringMatching(/expires too soon/),
    });
    await expect(verifier.verify(await signed({ exp: nowSeconds() + 90 }))).resolves.toMatchObject({
      userId: 'alice',
    });
    const uncached = createTokenVerifier({ ...jwt, cacheSeconds: 0 });
    await expect(uncached.verify(await signed({ exp: nowSeconds() + 30 }))).resolves.toMatchObject({
      userId: 'alice',
    });
  });

  it('with a maximum age, needs iat and refuses older tokens', async () => {
    const verifier = createTokenVerifier({ ...jwt, maxAgeSeconds: 600 });
    const exp = nowSeconds() + 3600;
    await expect(verifier.verify(await signed({ exp }))).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(verifier.verify(await signed({ exp, iat: nowSeconds() - 700 }))).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(verifier.verify(await signed({ exp, iat: nowSeconds() - 500 }))).resolves.toMatchObject({
      userId: 'alice',
    });
  });

  it('follows the injected clock', async () => {
    const token = await signed({ exp: nowSeconds() + 3600 });
    const later = { now: () => new Date(Date.now() + 2 * 3600 * 1000) };
    await expect(createTokenVerifier(jwt, later).verify(token)).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });

  it('checks issuer and audience when configured', async () => {
    const verifier = createTokenVerifier({ ...jwt, issuer: 'https://saas.example', audience: 'preview' });
    const sign = (iss: string) => signed({ exp: nowSeconds() + 3600, iss, aud: 'preview' });
    await expect(verifier.verify(await sign('https://saas.example'))).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(verifier.verify(await sign('https://evil.example'))).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });

  it('verifies RS256 tokens against a JWKS endpoint', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const server = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const verifier = createTokenVerifier({
        ...jwt,
        secret: undefined,
        jwksUrl: url,
        issuer: 'https://saas.example',
        audience: 'preview',
      });
      const token = await new SignJWT({ tier: 'enterprise' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('bob')
        .setIssuer('https://saas.example')
        .setAudience('preview')
        .setExpirationTime('1h')
        .sign(privateKey);
      await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'bob', tier: 'enterprise' });
      await expect(
        verifier.verify(await mintToken(jwt.secret as string, 'bob', 'pro')),
      ).rejects.toMatchObject({ code: 'unauthorized' });
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
