import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCursors, logCursor } from '#core/log-cursor.js';
import { dockerStampNs } from '#adapters/local/docker-log-follower.js';
import { lineEventId, parseLineEventId } from '#local/log-pipeline.js';

describe("the local log's event ids", () => {
  it('grow with the line number whatever the origin, and give both back', () => {
    const origin = fc.bigInt({ min: 0n, max: 10n ** 20n - 1n });
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), origin, origin, (sequence, a, b) => {
        const first = lineEventId(sequence, a);
        const next = lineEventId(sequence + 1n, b);
        expect(compareCursors(logCursor(5, first), logCursor(5, next))).toBeLessThan(0);
        expect(parseLineEventId(first)).toEqual({ sequence, origin: a });
      }),
    );
  });

  it('read ids of logs stored before they had an origin as line numbers of 0', () => {
    expect(parseLineEventId('42')).toEqual({ sequence: 0n, origin: 42n });
    expect(parseLineEventId('not a number')).toBeUndefined();
  });
});

describe("Docker's log timestamps", () => {
  it('become nanoseconds, with the trailing zeros Docker trims', () => {
    expect(dockerStampNs('2026-12-02T19:28:11.530119096Z')).toBe(1796239691530119096n);
    expect(dockerStampNs('2026-12-02T19:28:11.5301191Z')).toBe(1796239691530119100n);
    expect(dockerStampNs('2026-12-02T19:28:11Z')).toBe(1796239691000000000n);
    expect(dockerStampNs('garbage')).toBeUndefined();
  });
});
