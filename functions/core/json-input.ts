/**
 * How deep JSON from outside (request bodies, WebSocket messages, app output) may nest. Deeper
 * documents are refused before parsing: everything that walks a parsed value (validation,
 * redaction, serialisation) recurses, and 100,000 levels would overflow the stack.
 */
export const maxJsonDepth = 64;

/** The deepest nesting of arrays and objects in JSON text, in one pass; strings are skipped. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (code === 0x5d || code === 0x7d) depth -= 1;
  }
  return deepest;
}

/** Why JSON text was not parsed. */
export type JsonRefusal = 'invalid' | 'too_deep';

/** Parses JSON that nests at most `maxDepth` levels; otherwise says why not. */
export function parseJson(
  text: string,
  maxDepth = maxJsonDepth,
): { ok: true; value: unknown } | { ok: false; reason: JsonRefusal } {
  if (jsonDepth(text) > maxDepth) return { ok: false, reason: 'too_deep' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
}
