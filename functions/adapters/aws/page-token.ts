import { invalidFields } from '#core/errors.js';

/** DynamoDB's LastEvaluatedKey as an opaque `nextToken`, and back. */
export function encodePageToken(key: Record<string, unknown> | undefined): string | undefined {
  return key === undefined ? undefined : Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

const notOurs = () =>
  invalidFields([{ field: 'query.nextToken', message: 'is not a token this API returned' }]);

/**
 * The key a `nextToken` stands for. A token is the client's input: it must name exactly the
 * table's key attributes, as strings, and continue the same query (`expected` holds the
 * attributes the query fixed, such as its partition key), or DynamoDB would refuse it with a 500.
 */
export function decodePageToken(
  token: string | undefined,
  keyAttributes: readonly string[],
  expected: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  if (token === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw notOurs();
  }
  if (key === null || typeof key !== 'object' || Array.isArray(key)) throw notOurs();
  const entries = Object.entries(key);
  const valid =
    entries.length === keyAttributes.length &&
    entries.every(
      ([name, value]) => keyAttributes.includes(name) && typeof value === 'string' && value !== '',
    ) &&
    Object.entries(expected).every(([name, value]) => (key as Record<string, unknown>)[name] === value);
  if (!valid) throw notOurs();
  return key as Record<string, string>;
}
