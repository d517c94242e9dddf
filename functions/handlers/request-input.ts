import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, invalidFields, validationError } from '#core/errors.js';
import { maxJsonDepth, parseJson } from '#core/json-input.js';
import type { Identity } from '#core/preview.js';
import { tierNameSchema } from '#core/tiers.js';

/**
 * Query parameters as one object, from a REST event or a WebSocket `$connect`: a repeated parameter
 * becomes an array.
 */
export function queryParameters(
  event: Partial<Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>>,
): Record<string, string | string[]> {
  const multi = event.multiValueQueryStringParameters ?? {};
  // Entries, not assignments: a parameter may be called `__proto__`.
  return Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).map(([name, value]) => {
      const values =
        (Object.hasOwn(multi, name) ? multi[name] : undefined) ?? (value === undefined ? [] : [value]);
      return [name, values.length > 1 ? values : (values[0] ?? '')];
    }),
  );
}

export function parsePart<T extends z.ZodType>(
  schema: T,
  value: unknown,
  part: 'path' | 'query' | 'body',
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, part);
  return parsed.data;
}

/** The JSON body; an absent body reads as `{}` so that all-optional bodies may be omitted. */
export function jsonBody(event: APIGatewayProxyEvent): unknown {
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw === null || raw === undefined || raw.trim() === '') return {};
  const contentType = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'content-type',
  )?.[1];
  if (contentType !== undefined && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new AppError('bad_request', 'The request body must be JSON (Content-Type: application/json).');
  }
  const parsed = parseJson(raw);
  if (parsed.ok) return parsed.value;
  if (parsed.reason === 'too_deep') throw tooDeep('body');
  throw new AppError('bad_request', 'The request body is not valid JSON.');
}

/** JSON nested deeper than the service reads: 400 with the part it came in. */
export function tooDeep(field: string): AppError {
  return invalidFields([{ field, message: `nests deeper than ${maxJsonDepth} levels` }]);
}

/** The caller, as the authorizer put it into the request context. */
export function callerIdentity(event: APIGatewayProxyEvent): Identity {
  const authorizer = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  const userId = authorizer?.principalId;
  const tier = tierNameSchema.safeParse(authorizer?.tier);
  if (typeof userId !== 'string' || userId === '' || !tier.success) {
    throw new AppError('unauthorized', 'A valid bearer token is required.');
  }
  return { userId, tier: tier.data };
}
