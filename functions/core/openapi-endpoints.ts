import { httpMethods, isObject } from './openapi-schema.js';

/** One operation of an app's OpenAPI document, as `GET …/endpoints` and the status list it. */
export interface ApiEndpoint {
  readonly method: string;
  readonly path: string;
  readonly description?: string;
  readonly operationId?: string;
}

/** An app's description of one operation can be a page of prose; a listing shows its start. */
const maxDescriptionLength = 300;
/**
 * Endpoints kept on a preview's record (and shown in its status): enough for any generated app,
 * while the record stays far below DynamoDB's 400 KB item limit. `GET …/endpoints` lists them all.
 */
export const maxStoredEndpoints = 200;

function shortened(text: string): string {
  return text.length <= maxDescriptionLength ? text : `${text.slice(0, maxDescriptionLength - 1)}…`;
}

/**
 * The operations of an OpenAPI document in the document's order: its paths as written, and each
 * path's methods as written. Anything that is not a path of operations is skipped, so an app's
 * malformed document yields what can be read of it.
 */
export function apiEndpoints(document: unknown): ApiEndpoint[] {
  const paths = isObject(document) ? document.paths : undefined;
  if (!isObject(paths)) return [];
  return Object.entries(paths).flatMap(([path, operations]) =>
    isObject(operations)
      ? Object.entries(operations)
          .filter(([method]) => (httpMethods as readonly string[]).includes(method))
          .map(([method, operation]) => {
            const op = isObject(operation) ? operation : {};
            const description = [op.summary, op.description].find((t): t is string => typeof t === 'string');
            return {
              method: method.toUpperCase(),
              path,
              ...(description ? { description: shortened(description) } : {}),
              ...(typeof op.operationId === 'string' ? { operationId: op.operationId } : {}),
            };
          })
      : [],
  );
}

const routeMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** `METHOD /path` of each operation an API client would call, GETs first, then writes. */
export function routesOf(endpoints: readonly ApiEndpoint[]): string[] {
  return endpoints
    .filter((e) => routeMethods.includes(e.method))
    .sort((a, b) => routeMethods.indexOf(a.method) - routeMethods.indexOf(b.method))
    .map((e) => `${e.method} ${e.path}`);
}
