import { maxRedactedLineChars } from '#core/log-redaction.js';

/**
 * What the redaction rules look for (names, quotes, backslashes, separators, URL and PEM markers):
 * lines made of these are the ones a backtracking rule chokes on (the old quoted-value rule took
 * seconds on 54 backslashes).
 */
export const redactionFragments = [
  'password',
  'passw',
  'token',
  'key',
  'auth',
  'Authorization',
  'cookie',
  'Bearer ',
  'basic ',
  'eyJ',
  '.',
  '-',
  '_',
  '=',
  ':',
  '"',
  "'",
  '\\',
  ' ',
  '{',
  '[',
  '}',
  ']',
  '://',
  '@',
  '/',
  '-----BEGIN ',
  '-----END ',
  '-----',
  'AKIA',
  'A',
  'a',
  '0',
  '%',
  '\n',
  '*',
] as const;

/** Secrets a preview's task would know, with the characters that need encoding. */
export const taskSecrets = ['Zx9-q_LmN0pQrStUvWxYz12', 'p@ss word/1'];

/** The pattern repeated to the longest line redaction handles whole (16 KB). */
export function fullLengthLine(pattern: readonly string[]): string {
  let line = pattern.join('');
  while (line.length < maxRedactedLineChars) line += line;
  return line.slice(0, maxRedactedLineChars);
}
