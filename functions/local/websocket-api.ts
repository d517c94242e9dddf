import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketResult } from '#handlers/websocket/websocket-route.js';
import { webSocketRoutes, type WebSocketRouteName } from '#handlers/websocket/routes.js';
import { webSocketFunctions, type WebSocketHandler } from '#handlers/registry.js';
import { parseJson } from '#core/json-input.js';
import type { ConnectionChannel } from '#core/log-ports.js';
import { maxClientMessageBytes } from '#core/live-schemas.js';
import { services } from '#handlers/services.js';
import { decodePathPart, matchResource } from './api-gateway-event.js';
import { writeRawResponse, type GatewayExtension } from './gateway.js';
import { TokenBuckets } from './token-buckets.js';
import { newConnectionId, webSocketEvent, type ConnectionContext } from './websocket-event.js';

/** API Gateway's limit on a message posted to a connection through `@connections`. */
const maxPostedMessageBytes = 128 * 1024;
/** Close code of a connection the service ended (DeleteConnection) without a `closing` message first. */
export const serviceCloseCode = 4000;
/** Close code of a connection that sent more messages a second than allowed. */
export const rateLimitedCloseCode = 4429;
const logsPath = '/api/generations/{generationId}/preview/logs';

/** What PostToConnection answers (413) to a message over API Gateway's limit. */
class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeException';

  constructor(connectionId: string) {
    super(`Message too long for connection ${connectionId}.`);
  }
}

interface OpenConnection {
  readonly socket: WebSocket;
  readonly context: ConnectionContext;
  lastActiveAt: number;
  /** A connection's messages reach the handlers one at a time, in order. */
  queue: Promise<void>;
  /** The code and reason of the `closing` message last posted: DeleteConnection closes with them. */
  closing?: { readonly code: number; readonly reason: string };
}

/** The service's `closing` message goes alone in its WebSocket message, with `type` first. */
function closingOf(data: string): OpenConnection['closing'] {
  if (!data.startsWith('{"type":"closing"')) return undefined;
  const parsed = parseJson(data);
  const message = parsed.ok ? (parsed.value as { code?: unknown; reason?: unknown }) : {};
  return typeof message.code === 'number' && typeof message.reason === 'string'
    ? { code: message.code, reason: message.reason }
    : undefined;
}

const loaded = new Map<WebSocketRouteName, Promise<WebSocketHandler>>();

/** The route's function from the registry, loaded on first use like a Lambda cold start. */
function routeHandler(routeKey: string): Promise<WebSocketHandler> {
  const name = webSocketRoutes.find((r) => r.routeKey === routeKey)?.handler ?? 'default';
  let handler = loaded.get(name);
  if (!handler) {
    handler = webSocketFunctions[name].module.load().then((m) => m.handler);
    loaded.set(name, handler);
  }
  return handler;
}

/** `$request.body.action` when it names a route, else `$default`. */
function routeKeyOf(body: string): string {
  const parsed = parseJson(body);
  if (!parsed.ok) return '$default';
  const action = (parsed.value as { action?: unknown } | null)?.action;
  const route = webSocketRoutes.find((r) => r.routeKey === action && !r.routeKey.startsWith('$'));
  return route?.routeKey ?? '$default';
}

function writeJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

/**
 * The local stand-in for API Gateway's WebSocket API: the handshake at
 * `ws://…/api/generations/{generationId}/preview/logs` runs the `$connect` handler (its status
 * refuses or accepts the upgrade), messages go to the route their `action` selects, a closed
 * socket runs `$disconnect`, and `/@connections/{id}` is the management API the handlers post
 * through. The AWS URL names the generation in its query (`?generationId=`); the local one in its
 * path, which the events carry as that query parameter.
 */
export class LocalWebSocketApi implements GatewayExtension {
  private readonly server = new WebSocketServer({
    noServer: true,
    // A larger client message closes its connection with 1009 (message too big), as `ws` does.
    maxPayload: maxClientMessageBytes,
  });
  private readonly open = new Map<string, OpenConnection>();
  /**
   * `@connections` for the handlers in this process: the same answers as over HTTP, without an
   * SDK request and an HTTP round trip per post (which cost more than the post itself).
   */
  readonly channel: ConnectionChannel = {
    send: async (connectionId, data) => {
      const connection = this.openConnection(connectionId);
      if (!connection) return false;
      if (Buffer.byteLength(data) > maxPostedMessageBytes) throw new PayloadTooLargeError(connectionId);
      this.post(connection, data);
      return true;
    },
    isOpen: async (connectionId) => this.openConnection(connectionId) !== undefined,
    close: async (connectionId) => {
      const connection = this.openConnection(connectionId);
      if (connection) this.delete(connection);
    },
  };
  private messageRate: { buckets: TokenBuckets; perSecond: number } | undefined;

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const generationId = matchResource(logsPath, url.pathname)?.generationId;
    if (generationId === undefined) return false;
    void this.connect(req, socket, head, url, generationId).catch((error: unknown) => {
      console.error('websocket api: $connect failed', error);
      writeRawResponse(socket, {
        statusCode: 500,
        body: JSON.stringify({ message: 'Internal server error' }),
      });
    });
    return true;
  }

  request(req: IncomingMessage, res: ServerResponse): boolean {
    const match = /^\/@connections\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!match) return false;
    void this.manage(req, res, decodePathPart(match[1] as string)).catch((error: unknown) => {
      console.error('websocket api: @connections failed', error);
      if (!res.headersSent) writeJson(res, 500, { message: 'Internal server error' });
    });
    return true;
  }

  /** Closes every connection (their `$disconnect` runs) and waits for their handlers. */
  async close(): Promise<void> {
    const connections = [...this.open.values()];
    await Promise.all(
      connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            if (connection.socket.readyState === WebSocket.CLOSED) return resolve();
            connection.socket.once('close', () => resolve());
            connection.socket.close(1001, 'going away');
            // A client that does not answer the closing handshake is cut off.
            setTimeout(() => {
              connection.socket.terminate();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
    await Promise.all(connections.map((c) => c.queue));
    this.server.close();
  }

  private async connect(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, generationId: string) {
    const context: ConnectionContext = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      domainName: req.headers.host ?? 'localhost',
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: req.headers['user-agent'],
    };
    const query = new URLSearchParams(url.search);
    query.set('generationId', generationId);
    const result = await this.invoke('$connect', context, 'CONNECT', { query });
    if (result.statusCode !== 200) {
      // As API Gateway: the handshake is answered with the status, headers and body `$connect` returned.
      writeRawResponse(socket, result);
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) => {
      const connection: OpenConnection = {
        socket: ws,
        context,
        lastActiveAt: Date.now(),
        queue: Promise.resolve(),
      };
      this.open.set(context.connectionId, connection);
      // Protocol errors (a message over the limit, a bad frame) close this connection alone.
      ws.on('error', (error) => console.warn(`websocket api: ${context.connectionId}: ${error.message}`));
      ws.on('message', (data) => {
        connection.lastActiveAt = Date.now();
        if (ws.readyState !== WebSocket.OPEN) return;
        const rate = this.messageRateLimit();
        if (rate.buckets.take(context.connectionId) > 0) {
          ws.close(rateLimitedCloseCode, `rate_limited: more than ${rate.perSecond} messages a second`);
          return;
        }
        const body = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString(
          'utf8',
        );
        connection.queue = connection.queue.then(async () => {
          await this.invoke(routeKeyOf(body), context, 'MESSAGE', { body });
        });
      });
      ws.on('close', () => {
        this.open.delete(context.connectionId);
        this.messageRate?.buckets.forget(context.connectionId);
        connection.queue = connection.queue.then(async () => {
          await this.invoke('$disconnect', context, 'DISCONNECT');
        });
      });
    });
  }

  /** Made on first use, once the service's configuration is loaded. */
  private messageRateLimit() {
    if (!this.messageRate) {
      const perSecond = services().config.limits.messagesPerSecond;
      this.messageRate = { buckets: new TokenBuckets(perSecond, perSecond), perSecond };
    }
    return this.messageRate;
  }

  private async invoke(
    routeKey: string,
    context: ConnectionContext,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    extra: { body?: string; query?: URLSearchParams } = {},
  ): Promise<WebSocketResult> {
    try {
      const handler = await routeHandler(routeKey);
      return await handler(webSocketEvent(context, { routeKey, eventType }, extra));
    } catch (error) {
      console.error(`websocket api: ${routeKey} failed`, error);
      return { statusCode: 500 };
    }
  }

  /** PostToConnection, GetConnection and DeleteConnection, answered as API Gateway does. */
  private async manage(req: IncomingMessage, res: ServerResponse, connectionId: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const connection = this.openConnection(connectionId);
    if (!connection) {
      writeJson(res, 410, { message: `Connection ${connectionId} is gone.` }, 'GoneException');
      return;
    }
    switch (req.method) {
      case 'POST': {
        const data = Buffer.concat(chunks);
        if (data.length > maxPostedMessageBytes) {
          writeJson(res, 413, { message: 'Message too long' }, 'PayloadTooLargeException');
          return;
        }
        this.post(connection, data.toString('utf8'));
        writeJson(res, 200, undefined);
        return;
      }
      case 'GET':
        writeJson(res, 200, {
          ConnectedAt: new Date(connection.context.connectedAt).toISOString(),
          Identity: { SourceIp: connection.context.sourceIp, UserAgent: connection.context.userAgent },
          LastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
        return;
      case 'DELETE':
        this.delete(connection);
        res.writeHead(204).end();
        return;
      default:
        writeJson(res, 405, { message: `${req.method} is not supported on @connections.` });
    }
  }

  private openConnection(connectionId: string): OpenConnection | undefined {
    const connection = this.open.get(connectionId);
    return connection?.socket.readyState === WebSocket.OPEN ? connection : undefined;
  }

  private post(connection: OpenConnection, text: string): void {
    connection.closing = closingOf(text) ?? connection.closing;
    // Accepted once queued on the socket, as API Gateway answers before the client has it.
    connection.socket.send(text);
  }

  private delete(connection: OpenConnection): void {
    // API Gateway cannot close with a code of its own (the client sees 1000 or 1001, and the
    // `closing` message before says why); here the close frame carries that message's code.
    connection.socket.close(
      connection.closing?.code ?? serviceCloseCode,
      connection.closing?.reason ?? 'closed by the service',
    );
  }
}
