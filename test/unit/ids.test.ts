import { describe, expect, it } from 'vitest';
import {
  hashToken,
  newEventId,
  newPreviewId,
  newPreviewToken,
  previewIdCreatedAt,
  tokenMatches,
} from '#core/ids.js';

describe('preview tokens', () => {
  it('carry 256 random bits and are never equal', () => {
    const token = newPreviewToken();
    expect(Buffer.from(token.replace(/^pvt_/, ''), 'base64url')).toHaveLength(32);
    expect(new Set(Array.from({ length: 1000 }, newPreviewToken)).size).toBe(1000);
  });

  it('are stored as a SHA-256 hash that matches only the same token', () => {
    const token = newPreviewToken();
    const hash = hashToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token);
    expect(tokenMatches(token, hash)).toBe(true);
    expect(tokenMatches(newPreviewToken(), hash)).toBe(false);
    expect(tokenMatches(token, 'not-a-hash')).toBe(false);
  });
});

describe('ids', () => {
  it('gives preview ids that tell their creation time', () => {
    const at = new Date('2026-11-25T10:00:00.123Z');
    const id = newPreviewId(at);
    expect(id).toMatch(/^preview_[0-9a-z]{9}[0-9a-f]{16}$/);
    expect(previewIdCreatedAt(id)).toEqual(at);
    expect(previewIdCreatedAt('preview_nonsense')).toBeUndefined();
  });

  it('gives event ids that sort by time', () => {
    const first = newEventId(new Date('2026-11-25T10:00:00Z'));
    const second = newEventId(new Date('2026-11-25T10:00:01Z'));
    expect([second, first].sort()).toEqual([first, second]);
    const sameMs = Array.from({ length: 50 }, () => newEventId(new Date('2026-11-25T10:00:02Z')));
    expect([...sameMs].sort()).toEqual(sameMs);
  });
});
