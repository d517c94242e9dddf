import { SignJWT } from 'jose';
import type { TierName } from '#core/tiers.js';

/** A development JWT in the shape the SaaS issues: `sub` is the user, `tier` the plan. */
export async function mintToken(
  secret: string,
  userId: string,
  tier: TierName,
  ttlSeconds = 12 * 3600,
): Promise<string> {
  return new SignJWT({ tier })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}
