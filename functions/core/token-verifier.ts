import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, type JwtConfig } from './config.js';
import { AppError } from './errors.js';
import type { Identity } from './preview.js';
import { tierNameSchema } from './tiers.js';

const claimsSchema = z.object({
  sub: z.string().regex(/^[A-Za-z0-9@._:|-]{1,128}$/),
  tier: tierNameSchema,
  exp: z.number(),
});

/** Who the caller is, and until when the token that says so may be trusted. */
export interface VerifiedToken extends Identity {
  /** The token's `exp`, in seconds since the epoch: nothing may remember the decision past it. */
  readonly expiresAtEpoch: number;
}

/** Verifies the SaaS's bearer JWT and yields who the caller is. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** HS256 with a shared secret (local), or RS256 against the SaaS's JWKS (AWS). */
export function createTokenVerifier(jwt: JwtConfig, clock: Clock = systemClock): TokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (jwt.jwksUrl) {
    key = createRemoteJWKSet(new URL(jwt.jwksUrl));
    algorithms = ['RS256'];
  } else if (jwt.secret) {
    key = new TextEncoder().encode(jwt.secret);
    algorithms = ['HS256'];
  } else {
    throw new ConfigError(['PREVIEW_JWT_SECRET or PREVIEW_JWT_JWKS_URL: one of them must be set']);
  }
  const options = {
    algorithms,
    // A token without an expiry would be valid for ever, however it leaked.
    requiredClaims: ['exp'],
    ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
    ...(jwt.audience ? { audience: jwt.audience } : {}),
    // jose then requires `iat` too, and refuses tokens issued longer ago than this.
    ...(jwt.maxAgeSeconds === undefined ? {} : { maxTokenAge: jwt.maxAgeSeconds }),
  };
  return {
    async verify(token) {
      let payload: unknown;
      const now = clock.now();
      try {
        // jose's overloads differ only in the key's type; both are handled the same way.
        payload = (await jwtVerify(token, key as Uint8Array, { ...options, currentDate: now })).payload;
      } catch (error) {
        if (isKeyRetrievalFault(error)) {
          throw new AppError(
            'unavailable',
            'The keys that verify tokens could not be read; try again.',
            undefined,
            5,
          );
        }
        throw new AppError('unauthorized', 'A valid bearer token is required.');
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success)
        throw new AppError('unauthorized', 'The token lacks a valid subject or tier claim.');
      // A decision cached for `cacheSeconds` must not outlive the token (API Gateway's TTL is one for all).
      if (claims.data.exp - now.getTime() / 1000 < jwt.cacheSeconds)
        throw new AppError('unauthorized', 'The token expires too soon; get a new one.');
      return { userId: claims.data.sub, tier: claims.data.tier, expiresAtEpoch: claims.data.exp };
    },
  };
}

/**
 * The service could not get the keys (the JWKS endpoint unreachable, slow or answering garbage): its
 * own fault, not the caller's. Every other verification error is a bad token.
 */
function isKeyRetrievalFault(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return ['ERR_JOSE_GENERIC', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID'].includes(error.code);
}

/** The token of an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
