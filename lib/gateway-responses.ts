import { GatewayResponse, ResponseType, type IRestApi } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import type { ErrorCode } from '#core/errors.js';

/**
 * An error API Gateway answers by itself (before or instead of a function), rendered in the
 * service's one error shape `{"error":{"code","message"}}`.
 */
export interface GatewayError {
  readonly id: string;
  readonly type: ResponseType;
  /** Omitted: keep the status API Gateway chose (the DEFAULT_* families span several). */
  readonly statusCode?: string;
  readonly code: ErrorCode;
  /** Omitted: API Gateway's own message for the case, JSON-quoted by `$context.error.messageString`. */
  readonly message?: string;
  /** Header values are API Gateway mapping expressions: literals are single-quoted. */
  readonly headers?: Record<string, string>;
}

export const gatewayErrors: readonly GatewayError[] = [
  {
    id: 'Unauthorized',
    type: ResponseType.UNAUTHORIZED,
    statusCode: '401',
    code: 'unauthorized',
    message: 'A valid bearer token is required.',
    headers: { 'WWW-Authenticate': "'Bearer'" },
  },
  {
    id: 'AccessDenied',
    type: ResponseType.ACCESS_DENIED,
    statusCode: '403',
    code: 'forbidden',
    message: 'This token does not allow access to this resource.',
  },
  {
    // A REST API answers a path or method it does not know with "Missing Authentication Token".
    id: 'NoRoute',
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    code: 'not_found',
    message: 'No route matches this method and path.',
  },
  {
    id: 'Throttled',
    type: ResponseType.THROTTLED,
    statusCode: '429',
    code: 'rate_limited',
    message: 'Too many requests; retry later.',
  },
  {
    id: 'RequestTooLarge',
    type: ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    code: 'payload_too_large',
    message: 'The request is too large.',
  },
  { id: 'Default4xx', type: ResponseType.DEFAULT_4XX, code: 'bad_request' },
  {
    // Function crashes, timeouts and authorizer failures: nothing internal reaches the client.
    id: 'Default5xx',
    type: ResponseType.DEFAULT_5XX,
    code: 'internal',
    message: 'The service could not complete the request.',
  },
];

/** The `application/json` template of a gateway error. */
export function errorTemplate(error: GatewayError): string {
  const message =
    error.message === undefined ? '$context.error.messageString' : JSON.stringify(error.message);
  return `{"error":{"code":${JSON.stringify(error.code)},"message":${message}}}`;
}

export interface GatewayResponsesProps {
  readonly api: IRestApi;
  readonly errors?: readonly GatewayError[];
  /** The origin CORS allows: browsers then let the frontend read these errors too. */
  readonly allowedOrigin?: string;
}

/** Adds the service's gateway responses to a REST API. */
export class GatewayResponses extends Construct {
  constructor(scope: Construct, id: string, props: GatewayResponsesProps) {
    super(scope, id);
    const cors: Record<string, string> = props.allowedOrigin
      ? { 'Access-Control-Allow-Origin': `'${props.allowedOrigin}'`, Vary: "'Origin'" }
      : {};
    for (const error of props.errors ?? gatewayErrors) {
      const headers = { ...cors, ...error.headers };
      new GatewayResponse(this, error.id, {
        restApi: props.api,
        type: error.type,
        ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
        ...(Object.keys(headers).length === 0 ? {} : { responseHeaders: headers }),
        templates: { 'application/json': errorTemplate(error) },
      });
    }
  }
}
