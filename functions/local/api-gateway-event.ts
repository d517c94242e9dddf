import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '#core/errors.js';
import type { RouteDefinition } from '#handlers/http/routes.js';

export const localStage = 'local';

/** One percent-encoded part of a URL path, decoded; a malformed encoding is the client's 400. */
export function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AppError('bad_request', 'The request is invalid.', {
      fields: [{ field: 'path', message: 'is not validly percent-encoded' }],
    });
  }
}

/** Matches a URL path against an API Gateway resource path; returns its path parameters. */
export function matchResource(resource: string, path: string): Record<string, string> | undefined {
  const resourceParts = resource.split('/').filter(Boolean);
  const pathParts = path.split('/').filter(Boolean);
  const parameters: Record<string, string> = {};
  for (const [index, part] of resourceParts.entries()) {
    const greedy = /^\{(\w+)\+\}$/.exec(part);
    if (greedy?.[1]) {
      const rest = pathParts.slice(index);
      if (rest.length === 0) return undefined;
      parameters[greedy[1]] = rest.map(decodePathPart).join('/');
      return parameters;
    }
    const segment = pathParts[index];
    if (segment === undefined) return undefined;
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) parameters[name] = decodePathPart(segment);
    else if (part !== segment) return undefined;
  }
  return resourceParts.length === pathParts.length ? parameters : undefined;
}

/** A URL's query as API Gateway passes it: last value per name, and every value per name. */
export function queryParameterMaps(parameters: Iterable<[string, string]>): {
  query: Record<string, string>;
  multiQuery: Record<string, string[]>;
} {
  const byName = new Map<string, string[]>();
  for (const [name, value] of parameters) {
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
  }
  // From entries: own properties, whatever a parameter is called (`__proto__`, `valueOf`).
  return {
    query: Object.fromEntries(
      [...byName].map(([name, values]) => [name, values[values.length - 1] as string]),
    ),
    multiQuery: Object.fromEntries(byName),
  };
}

const textTypes = /^(application\/([\w.+-]+\+)?(json|xml|x-www-form-urlencoded|javascript)|text\/)/i;

export interface IncomingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly sourceIp: string;
}

/** The REST API proxy event (payload v1) API Gateway would send for this request. */
export function proxyEvent(
  request: IncomingRequest,
  route: RouteDefinition,
  pathParameters: Record<string, string>,
  authorizer: Record<string, string> | undefined,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = [...values];
  }
  const { query, multiQuery } = queryParameterMaps(request.url.searchParams);
  const hasQuery = Object.keys(query).length > 0;
  const contentType = headers['content-type'] ?? '';
  const binary = request.body.length > 0 && contentType !== '' && !textTypes.test(contentType);
  const now = Date.now();
  return {
    resource: route.path,
    path: request.url.pathname,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    body: request.body.length === 0 ? null : request.body.toString(binary ? 'base64' : 'utf8'),
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: authorizer ?? null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method,
      path: `/${localStage}${request.url.pathname}`,
      stage: localStage,
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}
