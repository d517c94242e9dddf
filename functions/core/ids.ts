import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The one generator of identifiers and secrets. */

/** Preview ids start with their creation time (ms, base 36) so their age can be read from them. */
export function newPreviewId(at: Date): string {
  return `preview_${at.getTime().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}

export function previewIdCreatedAt(previewId: string): Date | undefined {
  const match = /^preview_([0-9a-z]{9})[0-9a-f]{16}$/.exec(previewId);
  return match?.[1] === undefined ? undefined : new Date(parseInt(match[1], 36));
}

let eventSequence = 0;

/**
 * A sortable id: time first, so DynamoDB sort keys keep insertion order; a sequence number
 * orders the events one process records within the same millisecond.
 */
export function newEventId(at: Date): string {
  eventSequence = (eventSequence + 1) % 36 ** 4;
  return `${at.toISOString()}#${eventSequence.toString(36).padStart(4, '0')}${randomBytes(3).toString('hex')}`;
}

/** A preview token: 256 random bits, shown once, stored only as its hash. */
export function newPreviewToken(): string {
  return `pvt_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** A random password for a preview's own database. */
export function newDatabasePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * A local preview bridge's name, also its interface's: `pv-` is what the host firewall matches
 * (scripts/docker/isolate-previews.sh), and a Linux interface name holds at most 15 characters.
 */
export function newBridgeName(): string {
  return `pv-${randomBytes(6).toString('hex')}`;
}
