import { describe, expect, it } from 'vitest';
import { jsonDepth, maxJsonDepth, parseJson } from '#core/json-input.js';

describe('JSON from outside', () => {
  it('measures nesting, skipping brackets inside strings', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('["[[[[", "\\"[[["]')).toBe(1);
  });

  it('parses documents up to the limit and refuses deeper ones before parsing', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(parseJson(nested(maxJsonDepth))).toMatchObject({ ok: true });
    expect(parseJson(nested(maxJsonDepth + 1))).toEqual({ ok: false, reason: 'too_deep' });
    expect(parseJson(nested(100_000))).toEqual({ ok: false, reason: 'too_deep' });
    expect(parseJson('{"a":')).toEqual({ ok: false, reason: 'invalid' });
  });
});
