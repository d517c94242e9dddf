/** What a secret becomes in anything the service stores or sends. */
const redacted = '***';

/** Names whose values are secrets: `password=`, `"api_key":`, `DB_PASSWORD=`, `x-auth-token:` … */
const secretName = String.raw`[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)`;
const secretKey = new RegExp(`^${secretName}$|^authorization$`, 'i');

/** Whether a variable or field of this name holds a secret (`DB_PASSWORD`, `api_key`, …). */
export function isSecretName(name: string): boolean {
  return secretKey.test(name);
}

type Rule = readonly [RegExp, string] | readonly [RegExp, (match: string, ...groups: string[]) => string];

/** Each rule keeps what identifies the secret (`password=`, `Bearer`) and replaces only the value. */
const rules: readonly Rule[] = [
  // Credentials in connection URLs: postgresql://user:password@host/db
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@/]+@/gi, `$1${redacted}@`],
  // Bearer and Basic credentials, wherever they appear
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${redacted}`],
  [/\b(basic)\s+[A-Za-z0-9+/]{8,}={0,2}/gi, `$1 ${redacted}`],
  // Other Authorization header values (`Authorization: Token abc`, `"authorization": "abc"`)
  [
    /(\bauthorization["']?\s*[:=]\s*["']?(?:[A-Za-z]+\s+)?)(?![A-Za-z]+\s)(?!\*\*\*)[^\s"',;]+/gi,
    `$1${redacted}`,
  ],
  // JSON Web Tokens
  [/\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, redacted],
  // AWS access key ids
  [/\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[A-Z0-9]{16}\b/g, redacted],
  // name=value pairs: quoted values keep their quotes; a JSON number or literal becomes a string
  [new RegExp(String.raw`(${secretName}["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2`, 'gi'), `$1$2${redacted}$2`],
  [
    new RegExp(String.raw`(${secretName}(["']?)\s*[:=]\s*)(?!["'])[^\s"',;&}\]]+`, 'gi'),
    (_match, prefix: string, quote: string) => (quote ? `${prefix}"${redacted}"` : `${prefix}${redacted}`),
  ],
];

/**
 * Removes secrets from a line: credentials in URLs, Authorization values and bearer tokens, JWTs,
 * AWS access keys, `password=`/`secret=`/`token=`-style pairs, and the given secrets of the
 * preview itself (its database password) wherever they appear. Idempotent.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    // Short values would blank out ordinary words; the service's own secrets are long.
    if (secret.length < 6) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)]))
      result = result.split(form).join(redacted);
  }
  for (const [pattern, replacement] of rules) {
    result =
      typeof replacement === 'string'
        ? result.replace(pattern, replacement)
        : result.replace(pattern, replacement);
  }
  return result;
}

/** The same for parsed values: strings are redacted, and anything under a secret's name is hidden. */
export function redactValues(
  value: Readonly<Record<string, unknown>>,
  secrets: readonly string[] = [],
): Record<string, unknown> {
  const walk = (item: unknown, key: string | undefined): unknown => {
    if (key !== undefined && secretKey.test(key) && item !== null && typeof item !== 'object')
      return redacted;
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

const secretVariable = /(pass(word)?|secret|token|api[_-]?key|private|credential)/i;

/**
 * The secrets a task's environment gives away if printed: values of variables named like secrets
 * (POSTGRES_PASSWORD, …) and passwords inside connection URLs (DATABASE_URL).
 */
export function secretsOf(environment: Readonly<Record<string, string>>): string[] {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(environment)) {
    if (secretVariable.test(name) && value !== '') secrets.add(value);
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s@/]+)@/i.exec(value)?.[1];
    if (password) secrets.add(decoded(password));
  }
  return [...secrets];
}
