import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from '#adapters/aws/page-token.js';

const keys = ['previewId', 'eventId'] as const;
const token = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('page tokens', () => {
  it('round-trip the key of the same query', () => {
    const key = { previewId: 'p1', eventId: 'e9' };
    expect(decodePageToken(encodePageToken(key), keys, { previewId: 'p1' })).toEqual(key);
    expect(decodePageToken(undefined, keys, { previewId: 'p1' })).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['another shape', token({ a: 1 })],
    ['an array', token(['p1', 'e9'])],
    ['a number for a key', token({ previewId: 'p1', eventId: 5 })],
    ['an extra attribute', token({ previewId: 'p1', eventId: 'e', x: 'y' })],
    ["another preview's key", token({ previewId: 'p2', eventId: 'e9' })],
  ])('refuse %s with 400', (_what, forged) => {
    expect(() => decodePageToken(forged, keys, { previewId: 'p1' })).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });
});
