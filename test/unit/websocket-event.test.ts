import { describe, expect, it } from 'vitest';
import { webSocketEvent } from '#local/websocket-event.js';

const connection = {
  connectionId: 'L0SM9cOFvHcCIhw=',
  connectedAt: 1760962815000,
  domainName: '127.0.0.1:3000',
  sourceIp: '127.0.0.1',
  userAgent: 'test',
};

describe('local WebSocket events', () => {
  it("have API Gateway's shape: route, event type, connection, stage, and $connect's query", () => {
    const event = webSocketEvent(
      connection,
      { routeKey: '$connect', eventType: 'CONNECT' },
      { query: new URLSearchParams('token=t&source=request&source=database') },
    );
    expect(event).toMatchObject({
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        messageDirection: 'IN',
        stage: 'local',
        connectedAt: 1760962815000,
        domainName: '127.0.0.1:3000',
        connectionId: 'L0SM9cOFvHcCIhw=',
        apiId: 'local',
      },
      isBase64Encoded: false,
      queryStringParameters: { token: 't', source: 'database' },
      multiValueQueryStringParameters: { token: ['t'], source: ['request', 'database'] },
    });
    expect(event.body).toBeUndefined();
  });

  it('carry the message body of a client message', () => {
    const event = webSocketEvent(
      connection,
      { routeKey: 'ping', eventType: 'MESSAGE' },
      { body: '{"action":"ping"}' },
    );
    expect(event.body).toBe('{"action":"ping"}');
    expect(event.requestContext.messageId).not.toBe('');
    expect(event.queryStringParameters).toBeUndefined();
  });
});
