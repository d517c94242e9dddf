/**
 * Secret redaction for everything the service stores or sends of an app's output.
 *
 * Every rule is a single left-to-right scan (or a regular expression whose every quantifier is
 * bounded), so its time grows linearly with the line whatever the line holds: an app cannot stall
 * the service by printing a line built to make a pattern backtrack. Lines are also cut at
 * `maxRedactedLineChars`, with a visible marker.
 */

/** What a secret becomes in anything the service stores or sends. */
const redacted = '***';

/** The longest line redacted and kept; the rest of a longer line is dropped with a marker. */
export const maxRedactedLineChars = 16 * 1024;

const truncationMarker = (dropped: number) => ` …[truncated ${dropped} characters]`;
/** Room kept for the marker and for values that redaction lengthens (`1` → `"***"`). */
const truncationReserve = 64;

/** Parts of a name that make it a secret's name. */
const secretFragment = /secret|pass|pwd|token|key|cookie|auth|dsn|credential/;

/** Words that contain a fragment above but name nothing secret. */
const harmlessWords = new Set([
  'keyboard',
  'keyboards',
  'keyword',
  'keywords',
  'keystroke',
  'keypress',
  'keydown',
  'keyup',
  'hotkey',
  'monkey',
  'turkey',
  'donkey',
  'hockey',
  'jockey',
  'whiskey',
  'author',
  'authors',
  'authored',
  'authority',
  'authenticated',
  'passed',
  'passes',
  'passing',
  'passenger',
  'passive',
  'bypass',
  'compass',
  'tokenizer',
]);

/** Whole names that would otherwise look secret: database keys, counters, Python's KeyError. */
const harmlessNames = new Set([
  'key_error',
  'keys',
  'tokens',
  'max_tokens',
  'num_tokens',
  'total_tokens',
  'prompt_tokens',
  'completion_tokens',
  'token_count',
  'token_type',
  'key_count',
  'key_name',
  'primary_key',
  'sort_key',
  'partition_key',
  'foreign_key',
  'hash_key',
  'range_key',
  'cache_key',
  'idempotency_key',
]);

/** Names longer than this are judged by their fragments alone. */
const maxAnalysedNameChars = 128;

function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

function isLowerOrDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

/** The words of a name, lower case: `jwtSecretKey`, `JWT_SECRET_KEY` and `jwt-secret.key` alike. */
function wordsOf(name: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let index = 0; index <= name.length; index += 1) {
    const c = index < name.length ? name.charCodeAt(index) : -1;
    const alphanumeric = isUpper(c) || isLowerOrDigit(c);
    const boundary = !alphanumeric || (isUpper(c) && index > 0 && isLowerOrDigit(name.charCodeAt(index - 1)));
    if (boundary && start >= 0) {
      words.push(name.slice(start, index).toLowerCase());
      start = -1;
    }
    if (alphanumeric && start < 0) start = index;
  }
  return words;
}

function judgeName(name: string): boolean {
  if (!secretFragment.test(name.toLowerCase())) return false;
  if (name.length > maxAnalysedNameChars) return true;
  const words = wordsOf(name);
  if (!words.some((word) => !harmlessWords.has(word) && secretFragment.test(word))) return false;
  return !harmlessNames.has(words.join('_'));
}

/**
 * `compute`, remembered for the last `size` distinct keys: redaction runs on every log line, and
 * lines repeat the same few names and the same few secrets. Cleared whole when full: simple, and
 * a cleared entry costs one recomputation.
 */
function remembered<K, V>(compute: (key: K) => V, size = 1024): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as V;
    const value = compute(key);
    if (cache.size >= size) cache.clear();
    cache.set(key, value);
    return value;
  };
}

/**
 * Whether a variable, field or header of this name holds a secret: names containing secret,
 * pass(w), pwd, token, key, cookie, auth, dsn or credential (`SECRET_KEY`, `DB_PASS`, `x-auth-token`,
 * `SENTRY_DSN`), except harmless words and names (`keyboard`, `primary_key`, `max_tokens`).
 */
export const isSecretName: (name: string) => boolean = remembered(judgeName);

const code = (text: string, index: number) => text.charCodeAt(index);

/** `[A-Za-z0-9_.-]`: the characters of names (and of tokens such as JWTs). */
function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x2d
  );
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

function skipSpaces(text: string, from: number): number {
  let index = from;
  while (index < text.length && isSpace(code(text, index))) index += 1;
  return index;
}

/** Characters that end an unquoted value: whitespace, quotes and `,;&}]`. */
function endsValue(c: number): boolean {
  return (
    isSpace(c) ||
    c === 0x22 ||
    c === 0x27 ||
    c === 0x2c ||
    c === 0x3b ||
    c === 0x26 ||
    c === 0x7d ||
    c === 0x5d
  );
}

/** Where the quoted string opened at `from` ends (after its quote), or the text's end. */
function quotedEnd(text: string, from: number): number {
  const quote = code(text, from);
  for (let index = from + 1; index < text.length; index += 1) {
    const c = code(text, index);
    if (c === 0x5c) index += 1;
    else if (c === quote) return index + 1;
  }
  return text.length;
}

/** Where the JSON object or array opened at `from` ends, or the text's end. */
function nestedEnd(text: string, from: number): number {
  let depth = 0;
  for (let index = from; index < text.length; index += 1) {
    const c = code(text, index);
    if (c === 0x22 || c === 0x27) index = quotedEnd(text, index) - 1;
    else if (c === 0x7b || c === 0x5b) depth += 1;
    else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
  }
  return text.length;
}

function unquotedEnd(text: string, from: number): number {
  let index = from;
  while (index < text.length && !endsValue(code(text, index))) index += 1;
  return index;
}

/** `Bearer abc` → `Bearer ***`: an Authorization value keeps its scheme. */
function schemeAndSecret(value: string): string {
  let index = 0;
  while (index < value.length && isLetter(code(value, index))) index += 1;
  const afterScheme = skipSpaces(value, index);
  if (index === 0 || afterScheme === index || afterScheme === value.length) return redacted;
  return `${value.slice(0, afterScheme)}${redacted}`;
}

/** A text rewritten piece by piece: what is not replaced is copied as it is. */
class Rewrite {
  private readonly parts: string[] = [];
  private copied = 0;

  constructor(private readonly text: string) {}

  replace(start: number, end: number, replacement: string): void {
    this.parts.push(this.text.slice(this.copied, start), replacement);
    this.copied = end;
  }

  result(): string {
    if (this.parts.length === 0) return this.text;
    return this.parts.join('') + this.text.slice(this.copied);
  }
}

/**
 * `name=value` and `name: value` under a secret's name, in text, query strings, headers and JSON:
 * quoted values keep their quotes, a JSON number or literal after a quoted name becomes a string,
 * a JSON object or array becomes `"***"` whole, an Authorization value keeps its scheme, and a
 * Cookie or Set-Cookie header is hidden to the end of its line.
 */
function redactNamedValues(text: string): string {
  const rewrite = new Rewrite(text);
  let index = 0;
  while (index < text.length) {
    if (!isNameChar(code(text, index))) {
      index += 1;
      continue;
    }
    const start = index;
    while (index < text.length && isNameChar(code(text, index))) index += 1;
    const before = start > 0 ? code(text, start - 1) : -1;
    const quotedName = (before === 0x22 || before === 0x27) && code(text, index) === before;
    const separator = skipSpaces(text, quotedName ? index + 1 : index);
    const sep = code(text, separator);
    if (sep !== 0x3a && sep !== 0x3d) continue;
    const name = text.slice(start, index);
    if (!isSecretName(name)) continue;
    const from = skipSpaces(text, separator + 1);
    if (from >= text.length) continue;
    const first = code(text, from);
    const lower = name.toLowerCase();
    let end: number;
    let replacement: string;
    if (first === 0x22 || first === 0x27) {
      end = quotedEnd(text, from);
      const quote = text[from] as string;
      const inner = text.slice(from + 1, end > from + 1 && code(text, end - 1) === first ? end - 1 : end);
      replacement = `${quote}${lower.includes('auth') ? schemeAndSecret(inner) : redacted}${quote}`;
    } else if (first === 0x7b || first === 0x5b) {
      end = nestedEnd(text, from);
      replacement = `"${redacted}"`;
    } else if (lower.endsWith('cookie') && sep === 0x3a) {
      end = text.indexOf('\n', from);
      if (end < 0) end = text.length;
      replacement = redacted;
    } else if (lower.includes('auth')) {
      // The scheme, its spaces and the credential that follows.
      let schemeEnd = from;
      while (schemeEnd < text.length && isLetter(code(text, schemeEnd))) schemeEnd += 1;
      const credential = skipSpaces(text, schemeEnd);
      const hasScheme = schemeEnd > from && credential > schemeEnd && credential < text.length;
      end = unquotedEnd(text, hasScheme ? credential : from);
      if (end === (hasScheme ? credential : from)) continue;
      replacement = hasScheme ? `${text.slice(from, credential)}${redacted}` : redacted;
    } else {
      end = unquotedEnd(text, from);
      if (end === from) continue;
      replacement = quotedName ? `"${redacted}"` : redacted;
    }
    rewrite.replace(from, end, replacement);
    index = end;
  }
  return rewrite.result();
}

/** Characters of bearer and basic credentials. */
function isCredentialChar(c: number): boolean {
  return isNameChar(c) || c === 0x7e || c === 0x2b || c === 0x2f || c === 0x3d;
}

/** `Bearer <token>` and `Basic <credentials>` wherever they appear (8 characters or more). */
function redactSchemeCredentials(text: string): string {
  const rewrite = new Rewrite(text);
  let index = 0;
  while (index < text.length) {
    if (!isNameChar(code(text, index))) {
      index += 1;
      continue;
    }
    const start = index;
    while (index < text.length && isNameChar(code(text, index))) index += 1;
    const word = index - start;
    if (word !== 5 && word !== 6) continue;
    const scheme = text.slice(start, index).toLowerCase();
    if (scheme !== 'bearer' && scheme !== 'basic') continue;
    const from = skipSpaces(text, index);
    if (from === index) continue;
    let end = from;
    while (end < text.length && isCredentialChar(code(text, end))) end += 1;
    if (end - from < 8) continue;
    rewrite.replace(from, end, redacted);
    index = end;
  }
  return rewrite.result();
}

function isWordChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** `[\w-]`: the characters of a JWT's base64url parts. */
function isJwtChar(c: number): boolean {
  return isWordChar(c) || c === 0x2d;
}

function jwtPartEnd(text: string, from: number): number {
  let index = from;
  while (index < text.length && isJwtChar(code(text, index))) index += 1;
  return index;
}

/** JSON Web Tokens: an `eyJ…` header of 8 or more characters, a payload of 5 or more, a signature. */
function redactJsonWebTokens(text: string): string {
  const rewrite = new Rewrite(text);
  let from = 0;
  for (;;) {
    const start = text.indexOf('eyJ', from);
    if (start < 0) break;
    if (start > 0 && isWordChar(code(text, start - 1))) {
      from = start + 3;
      continue;
    }
    // A token starting later in the same run would end where this one does, so a failed
    // attempt moves past everything it read: each character is read once.
    const headerEnd = jwtPartEnd(text, start + 3);
    from = headerEnd;
    if (headerEnd - start < 8 || code(text, headerEnd) !== 0x2e) continue;
    const payloadEnd = jwtPartEnd(text, headerEnd + 1);
    from = payloadEnd;
    if (payloadEnd - headerEnd - 1 < 5 || code(text, payloadEnd) !== 0x2e) continue;
    const end = jwtPartEnd(text, payloadEnd + 1);
    rewrite.replace(start, end, redacted);
    from = end;
  }
  return rewrite.result();
}

/** AWS access key ids (every quantifier bounded: linear). */
const awsAccessKey = /\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[A-Z0-9]{16}\b/g;

function redactAwsAccessKeys(text: string): string {
  return text.replace(awsAccessKey, redacted);
}

function isSchemeChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2e || c === 0x2d;
}

/** Characters that end a URL's authority (`user:password@host:port`). */
function endsAuthority(c: number): boolean {
  return (
    isSpace(c) ||
    c === 0x2f ||
    c === 0x3f ||
    c === 0x23 ||
    c === 0x22 ||
    c === 0x27 ||
    c === 0x3c ||
    c === 0x3e
  );
}

/**
 * User info in URLs: `postgresql://user:password@host` keeps the user, `https://token@host` (a
 * DSN, a token as user) hides it all.
 */
function redactUrlCredentials(text: string): string {
  const rewrite = new Rewrite(text);
  let from = 0;
  for (;;) {
    const marker = text.indexOf('://', from);
    if (marker < 0) break;
    const authority = marker + 3;
    from = authority;
    if (marker === 0 || !isSchemeChar(code(text, marker - 1))) continue;
    let end = authority;
    let at = -1;
    let colon = -1;
    while (end < text.length && !endsAuthority(code(text, end))) {
      const c = code(text, end);
      if (c === 0x40) at = end;
      else if (c === 0x3a && at < 0 && colon < 0) colon = end;
      end += 1;
    }
    from = end;
    if (at <= authority) continue;
    const secretFrom = colon >= 0 && colon < at ? colon + 1 : authority;
    if (text.slice(secretFrom, at) === redacted) continue;
    rewrite.replace(secretFrom, at, redacted);
  }
  return rewrite.result();
}

const pemBegin = '-----BEGIN ';
const pemEnd = '-----END ';
const pemDashes = '-----';
const maxPemLabel = 64;
/** A line of a PEM block's body on its own: 48 to 76 base64 characters, mixed case. */
const pemBodyLine = /^\s*[A-Za-z0-9+/]{48,76}={0,2}\s*$/;

/** PEM blocks (keys, certificates): the label stays, the body goes; a lone body line too. */
function redactPemBlocks(text: string): string {
  if (pemBodyLine.test(text) && /[a-z]/.test(text) && /[A-Z]/.test(text)) return redacted;
  const rewrite = new Rewrite(text);
  let from = 0;
  for (;;) {
    const begin = text.indexOf(pemBegin, from);
    if (begin < 0) break;
    const labelEnd = text.indexOf(pemDashes, begin + pemBegin.length);
    if (labelEnd < 0 || labelEnd - begin - pemBegin.length > maxPemLabel) {
      from = begin + pemBegin.length;
      continue;
    }
    const bodyFrom = labelEnd + pemDashes.length;
    const end = text.indexOf(pemEnd, bodyFrom);
    // An unterminated block hides everything after its start.
    const bodyTo = end < 0 ? text.length : end;
    if (text.slice(bodyFrom, bodyTo) !== redacted) rewrite.replace(bodyFrom, bodyTo, redacted);
    if (end < 0) break;
    from = end + pemEnd.length;
  }
  return rewrite.result();
}

/** Short values would blank out ordinary words; the service's own secrets are long. */
const minKnownSecretChars = 6;
/** Encoded fragments shorter than this are too likely to occur by chance. */
const minEncodedFormChars = 8;

/**
 * The forms a known secret takes in output: as it is, URL-encoded, and base64 (standard and
 * URL-safe) at each of the three alignments it can have inside a longer encoded value, such as
 * `Basic base64(user:password)`: the characters that depend on the secret's bytes alone.
 */
export function knownSecretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret)]);
  const bytes = Buffer.from(secret, 'utf8');
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    const total = shift + bytes.length;
    // Skip the group that mixes in the unknown prefix, and the last group if it is partial.
    const first = shift === 0 ? 0 : 4;
    const last = total % 3 === 0 ? encoded.length : Math.floor(total / 3) * 4;
    const inner = encoded.slice(first, last);
    if (inner.length < minEncodedFormChars) continue;
    forms.add(inner);
    forms.add(inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** The forms of each secret, worked out once: every line of a preview is redacted against the same few. */
const formsOf = remembered(knownSecretForms);

function redactKnownSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length < minKnownSecretChars) continue;
    for (const form of formsOf(secret)) {
      if (result.includes(form)) result = result.split(form).join(redacted);
    }
  }
  return result;
}

/** Cuts a line to the redacted length, never through one of the known secrets' forms. */
function truncated(text: string, secrets: readonly string[]): string {
  if (text.length <= maxRedactedLineChars) return text;
  let cut = maxRedactedLineChars - truncationReserve;
  for (const secret of secrets) {
    if (secret.length < minKnownSecretChars) continue;
    for (const form of formsOf(secret)) {
      const found = text.indexOf(form, Math.max(0, cut - form.length + 1));
      if (found >= 0 && found < cut) cut = found;
    }
  }
  return `${text.slice(0, cut)}${truncationMarker(text.length - cut)}`;
}

/** One redaction rule: a linear pass over a line. */
export interface RedactionRule {
  readonly name: string;
  apply(text: string, secrets: readonly string[]): string;
}

/** The rules, in the order they run: each keeps what identifies a secret and replaces its value. */
export const redactionRules: readonly RedactionRule[] = [
  { name: 'known secrets', apply: redactKnownSecrets },
  { name: 'PEM blocks', apply: redactPemBlocks },
  { name: 'URL credentials', apply: redactUrlCredentials },
  { name: 'named values', apply: redactNamedValues },
  { name: 'bearer and basic credentials', apply: redactSchemeCredentials },
  { name: 'JSON Web Tokens', apply: redactJsonWebTokens },
  { name: 'AWS access keys', apply: redactAwsAccessKeys },
];

/**
 * Removes secrets from a line: the preview's own secrets (its database password) in plain,
 * URL-encoded and base64 form, PEM blocks, credentials in URLs, values under secret names
 * (`password=`, `"api_key":`, `Authorization:`, `Cookie:`), bearer and basic credentials, JWTs and
 * AWS access keys. A line longer than `maxRedactedLineChars` is cut, with a marker saying how much
 * was dropped. Linear in the line's length; idempotent on lines it did not cut.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = truncated(text, secrets);
  for (const rule of redactionRules) result = rule.apply(result, secrets);
  if (result.length <= maxRedactedLineChars) return result;
  // Redaction lengthens short values (`k:0` → `k:"***"`); what leaves keeps the bound too.
  const cut = maxRedactedLineChars - truncationReserve;
  return `${result.slice(0, cut)}${truncationMarker(result.length - cut)}`;
}

/**
 * The same for parsed values: strings are redacted, and whatever is under a secret's name (a
 * value, an object, an array) is hidden whole.
 */
export function redactValues(
  value: Readonly<Record<string, unknown>>,
  secrets: readonly string[] = [],
): Record<string, unknown> {
  const walk = (item: unknown, key: string | undefined): unknown => {
    if (key !== undefined && isSecretName(key) && item !== null && item !== undefined) return redacted;
    if (typeof item === 'string') return redactSecrets(item, secrets);
    if (Array.isArray(item)) return item.map((element) => walk(element, undefined));
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, walk(v, k)]));
    }
    return item;
  };
  return walk(value, undefined) as Record<string, unknown>;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The secrets a task's environment gives away if printed: values of variables named like secrets
 * (POSTGRES_PASSWORD, SECRET_KEY, …) and passwords inside connection URLs (DATABASE_URL).
 */
export function secretsOf(environment: Readonly<Record<string, string>>): string[] {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(environment)) {
    if (isSecretName(name) && value !== '') secrets.add(value);
    const password = /^[a-z][a-z0-9+.-]{0,32}:\/\/[^\s:@/]{0,256}:([^\s@/]{1,1024})@/i.exec(value)?.[1];
    if (password) secrets.add(decoded(password));
  }
  return [...secrets];
}
