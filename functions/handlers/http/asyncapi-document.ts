import { z } from 'zod';
import { closeCodes, type ClosingCause } from '#core/live-messages.js';
import {
  connectQuerySchema,
  pingMessageSchema,
  serverMessageSchemas,
  subscribeMessageSchema,
  unsubscribeMessageSchema,
} from '#core/live-schemas.js';
import { previewWsUrl, type PreviewUrls } from '#core/preview-views.js';

/**
 * The live stream's contract as an AsyncAPI 3 document, generated from the zod schemas of
 * live-schemas.ts (docs/api.md, WebSocket, says the same in prose). The service is the
 * application described: it receives the client's actions and sends the server messages.
 */

type ServerMessageType = keyof typeof serverMessageSchemas;

const schema = (zod: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _draft, ...rest } = z.toJSONSchema(zod, { io, unrepresentable: 'any', target: 'draft-7' });
  return rest;
};

const at = '2026-10-20T12:20:15.000Z';
const wsUrl = 'ws://127.0.0.1:3000/api/generations/gen_123/preview/logs';

/** One example per server message: test/unit/asyncapi-document.test.ts checks each against its schema. */
export const serverMessageExamples: {
  readonly [Type in ServerMessageType]: z.input<(typeof serverMessageSchemas)[Type]>;
} = {
  log: {
    type: 'log',
    timestamp: at,
    level: 'INFO',
    source: 'request',
    message: 'GET /api/users completed in 45ms',
    metadata: { method: 'GET', path: '/api/users', statusCode: 200, duration: 45 },
    cursor: '1760962815000-36863412299617384427360592543586283421440000000000000000',
  },
  metric: {
    type: 'metric',
    timestamp: at,
    metric: 'resource_usage',
    data: { memory: 245, cpu: 0.42, requests_per_minute: 120, error_rate: 0.24 },
  },
  health: {
    type: 'health',
    timestamp: at,
    status: 'degraded',
    changes: [{ name: 'database', status: 'failing', message: 'Connection refused' }],
  },
  status: {
    type: 'status',
    timestamp: at,
    previewId: 'preview_0mx79swtec7098736de6c7139',
    status: 'healthy',
    statusReason: null,
    expiresAt: '2026-10-20T14:20:15.000Z',
    health: {
      status: 'healthy',
      checks: [
        { name: 'http', status: 'passing', lastCheck: at },
        { name: 'memory', status: 'passing', usage: '45%', lastCheck: at },
      ],
    },
  },
  warning: {
    type: 'warning',
    timestamp: at,
    warning: 'storage',
    message: 'Storage is 95% full (972.8MB of 1GB); the preview stops when it is full.',
    data: { used: '972.8MB', allocated: '1GB', percent: 95 },
  },
  subscribed: {
    type: 'subscribed',
    filters: { level: 'WARN', source: ['request', 'database'], search: null },
  },
  unsubscribed: { type: 'unsubscribed' },
  pong: { type: 'pong', timestamp: at },
  truncated: {
    type: 'truncated',
    replayed: 10000,
    message: 'More than 10000 lines to replay; GET …/preview/logs?nextToken=… has the rest.',
    after: '1760962815000-36863412299617384427360592543586283421440000000000000000',
    nextToken: 'MTc2MDk2MjgxNTAwMC0zNjg2MzQxMjI5OTYxNzM4NDQyNzM2MDU5MjU0MzU4NjI4MzQyMTQ0MDAwMDAwMDAwMDAwMDAw',
  },
  error: {
    type: 'error',
    error: {
      code: 'bad_request',
      message: '"tail" is not an action; send {"action": "subscribe" | "unsubscribe" | "ping"}.',
    },
  },
  closing: {
    type: 'closing',
    code: closeCodes.preview_restarted,
    reason: 'The preview restarted with a new token; get it with POST …/preview/token.',
    previewId: 'preview_0mx79swtec7098736de6c7140',
    wsUrl,
  },
};

/** What each close code means for a client: stop, or get a token and connect again. */
export const closeCodeMeanings: { readonly [Cause in ClosingCause]: string } = {
  preview_stopped:
    'The preview stopped (its session expired, maintenance, its storage filled, an operator). Do not reconnect.',
  preview_deleted: 'The owner deleted the preview. Do not reconnect.',
  token_rotated:
    'The owner rotated the preview token. Get the current token over REST (POST …/preview/token with your JWT, or from whoever rotated it) and connect to `wsUrl`.',
  preview_restarted:
    'A new task (recovery) or a new preview (launch with `restart`) replaced this one, with a new token. Get it over REST and connect to `wsUrl`; `previewId` is the preview to follow.',
  preview_failed: 'The launch or recovery failed; GET …/preview/status says why. Do not reconnect.',
};

const clientActions = {
  subscribe: {
    schema: subscribeMessageSchema,
    summary: 'Replace the log filters',
    description:
      'Replaces the filters (those of the connect query or of an earlier `subscribe`): fields left out are no longer filtered. Answered with `subscribed`, which echoes the active filters.',
    example: { action: 'subscribe', filters: { level: 'WARN', source: ['request', 'database'] } },
  },
  unsubscribe: {
    schema: unsubscribeMessageSchema,
    summary: 'Stop the log lines',
    description:
      'No more `log` messages; status, health, metrics and warnings go on. Answered with `unsubscribed`.',
    example: { action: 'unsubscribe' },
  },
  ping: {
    schema: pingMessageSchema,
    summary: 'Check the connection',
    description: 'Answered with `pong`.',
    example: { action: 'ping' },
  },
} as const;

const serverSummaries: { readonly [Type in ServerMessageType]: string } = {
  log: 'A log line',
  metric: 'A resource sample',
  health: 'A health check that changed',
  status: 'Status and health (first on every connection, then on every change)',
  warning: 'A warning (storage filling up)',
  subscribed: 'Answer to subscribe: the active filters',
  unsubscribed: 'Answer to unsubscribe',
  pong: 'Answer to ping',
  truncated: 'A replay stopped at its cap',
  error: "What was wrong with the client's message",
  closing: 'The last message before the service closes the connection',
};

const ref = (path: string) => ({ $ref: path });

export function asyncApiDocument(urls: PreviewUrls) {
  const url = new URL(previewWsUrl(urls, 'gen'));
  const messages: Record<string, unknown> = {};
  for (const [type, zod] of Object.entries(serverMessageSchemas) as [ServerMessageType, z.ZodType][]) {
    messages[type] = {
      name: type,
      title: serverSummaries[type],
      summary: serverSummaries[type],
      ...(zod.description ? { description: zod.description } : {}),
      contentType: 'application/json',
      payload: schema(zod, 'output'),
      examples: [{ name: type, payload: serverMessageExamples[type] }],
    };
  }
  for (const [action, definition] of Object.entries(clientActions)) {
    messages[action] = {
      name: action,
      title: definition.summary,
      summary: definition.summary,
      description: definition.description,
      contentType: 'application/json',
      payload: schema(definition.schema, 'input'),
      examples: [{ name: action, payload: definition.example }],
    };
  }
  const channelMessages = Object.fromEntries(
    Object.keys(messages).map((name) => [name, ref(`#/components/messages/${name}`)]),
  );
  const operationMessages = (names: readonly string[]) =>
    names.map((name) => ref(`#/channels/previewLiveStream/messages/${name}`));
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Preview service live stream',
      version: '1.0.0',
      description: [
        "A preview's logs, metrics, health and status over WebSocket. Connect to the launch answer's `wsUrl` with `?token=<previewToken>` (and optionally `level`, `source`, `search`, `buffer`, `after`).",
        'Right after the handshake the service sends a `status` message (the snapshot), then the lines asked for again (`buffer`, or everything after the cursor `after`), then live messages.',
        'Each WebSocket message holds one or more server messages, one JSON object per line.',
        'Health uses the words of REST: `healthy`/`degraded`/`unhealthy` overall (`unknown` before a check), `passing`/`warning`/`failing` per check.',
        'Before closing a connection the service sends a `closing` message with a close code (x-close-codes). The local gateway closes with that code; API Gateway cannot set one, so in AWS the socket closes with 1000 or 1001 and the `closing` message is where the code is. A new token is never sent over the socket.',
      ].join('\n\n'),
      'x-close-codes': Object.entries(closeCodes).map(([name, code]) => ({
        code,
        name,
        meaning: closeCodeMeanings[name as ClosingCause],
      })),
    },
    servers: {
      service: {
        host: url.host,
        protocol: url.protocol.replace(':', ''),
        description: urls.websocket
          ? "API Gateway's WebSocket stage: the generation is named in the query (`?generationId=`)."
          : 'The local gateway: the generation is named in the path.',
      },
    },
    channels: {
      previewLiveStream: {
        title: "A preview's live stream",
        // In AWS the stage URL names the generation in its query (`generationId`), locally the path does.
        ...(urls.websocket
          ? { address: url.pathname }
          : {
              address: '/api/generations/{generationId}/preview/logs',
              parameters: { generationId: { description: 'The generation whose preview to stream.' } },
            }),
        messages: channelMessages,
        bindings: { ws: { bindingVersion: '0.1.0', query: schema(connectQuerySchema, 'input') } },
      },
    },
    operations: {
      sendServerMessages: {
        action: 'send',
        title: 'What the service sends',
        channel: ref('#/channels/previewLiveStream'),
        messages: operationMessages(Object.keys(serverMessageSchemas)),
      },
      receiveClientActions: {
        action: 'receive',
        title: 'What a client sends',
        channel: ref('#/channels/previewLiveStream'),
        messages: operationMessages(Object.keys(clientActions)),
      },
    },
    components: { messages },
  };
}
