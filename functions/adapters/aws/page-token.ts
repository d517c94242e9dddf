import { AppError } from '../../core/errors.js';

/** DynamoDB's LastEvaluatedKey as an opaque `nextToken`, and back. */
export function encodePageToken(key: Record<string, unknown> | undefined): string | undefined {
  return key === undefined ? undefined : Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodePageToken(token: string | undefined): Record<string, unknown> | undefined {
  if (token === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (key !== null && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw new AppError('validation_failed', 'The request is invalid.', [
    { field: 'query.nextToken', message: 'is not a token this API returned' },
  ]);
}
