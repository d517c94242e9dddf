import { randomBytes, randomUUID } from 'node:crypto';
import type { WebSocketEvent } from '#handlers/websocket/websocket-route.js';
import { localStage, queryParameterMaps } from './api-gateway-event.js';

/** What API Gateway knows of a WebSocket connection, and puts into every event of it. */
export interface ConnectionContext {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly domainName: string;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
}

/** API Gateway's connection ids: 12 random bytes in base64 (`L0SM9cOFvHcCIhw=`-like). */
export function newConnectionId(): string {
  return randomBytes(12).toString('base64');
}

/** The event (payload 2.0) API Gateway's WebSocket API sends a route's integration. */
export function webSocketEvent(
  connection: ConnectionContext,
  route: { routeKey: string; eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT' },
  extra: { body?: string; query?: URLSearchParams } = {},
): WebSocketEvent {
  const now = new Date();
  const { query, multiQuery } = queryParameterMaps(extra.query ?? []);
  return {
    requestContext: {
      routeKey: route.routeKey,
      messageId: route.eventType === 'MESSAGE' ? randomBytes(12).toString('base64') : '',
      eventType: route.eventType,
      extendedRequestId: randomUUID(),
      requestTime: now.toUTCString(),
      messageDirection: 'IN',
      stage: localStage,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now.getTime(),
      requestId: randomUUID(),
      domainName: connection.domainName,
      connectionId: connection.connectionId,
      apiId: 'local',
    },
    isBase64Encoded: false,
    ...(extra.body === undefined ? {} : { body: extra.body }),
    ...(Object.keys(query).length > 0
      ? { queryStringParameters: query, multiValueQueryStringParameters: multiQuery }
      : {}),
  };
}
