import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, errorBody } from '#core/errors.js';
import { clientFacing, errorHeaders, statusOf } from '../error-answer.js';
import type { LiveConnections } from '#core/services/live-connections.js';
import { lambdaHandler } from '../lambda-handler.js';
import { requireLogs } from '../log-services.js';
import { logger } from '../logger.js';
import { parsePart, tooDeep } from '../request-input.js';
import { parseJson } from '#core/json-input.js';
import { maxClientMessageBytes } from '#core/live-schemas.js';
import { services } from '../services.js';

/** A WebSocket route's event (payload 2.0); `$connect` carries the URL's query parameters. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2;

/** What a WebSocket route answers. For `$connect`, a status other than 200 refuses the handshake. */
export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const ok: WebSocketResult = { statusCode: 200 };

function internal(error: unknown, event: WebSocketEvent): AppError {
  logger.error('websocket route failed', {
    error,
    routeKey: event.requestContext.routeKey,
    connectionId: event.requestContext.connectionId,
  });
  return new AppError('internal', 'Something went wrong on our side; try again.');
}

/** `$connect`: whatever refuses the connection answers the handshake with its status and error body. */
export function connectRoute(
  run: (input: { event: WebSocketEvent; live: LiveConnections }) => Promise<void>,
) {
  return lambdaHandler(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    try {
      await run({ event, live: requireLogs(services().logs).live });
      return ok;
    } catch (error) {
      const appError = error instanceof AppError ? clientFacing(error) : internal(error, event);
      return {
        statusCode: statusOf(appError),
        body: JSON.stringify(errorBody(appError)),
        ...(appError.retryAfterSeconds === undefined ? {} : { headers: errorHeaders(appError) }),
      };
    }
  });
}

/**
 * A client message (`$request.body.action` selects the route): the JSON body is validated, and
 * what is wrong goes back to the client as an `error` message in the service's error shape.
 */
export function messageRoute<S extends z.ZodType>(
  schema: S,
  run: (input: { connectionId: string; body: z.infer<S>; live: LiveConnections }) => Promise<void>,
) {
  return lambdaHandler(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const { connectionId } = event.requestContext;
    const live = requireLogs(services().logs).live;
    try {
      await run({ connectionId, body: parsePart(schema, messageBody(event), 'body'), live });
      return ok;
    } catch (error) {
      const known = error instanceof AppError;
      await live.refuse(connectionId, known ? clientFacing(error) : internal(error, event));
      return known ? ok : { statusCode: 500 };
    }
  });
}

export function messageBody(event: WebSocketEvent): unknown {
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw && Buffer.byteLength(raw) > maxClientMessageBytes) {
    throw new AppError('payload_too_large', `Messages may be at most ${maxClientMessageBytes} bytes.`);
  }
  const parsed = parseJson(raw ?? '');
  if (parsed.ok) return parsed.value;
  if (parsed.reason === 'too_deep') throw tooDeep('message');
  throw new AppError('bad_request', 'Messages must be JSON objects such as {"action": "ping"}.');
}
