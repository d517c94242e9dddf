import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { CloudWatchLogsSchema } from '@aws-lambda-powertools/parser/schemas/cloudwatch';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbConnectionStore } from '#adapters/aws/dynamodb-connection-store.js';
import { FileLogStore } from '#adapters/local/file-log-store.js';
import type { LiveConnection } from '#core/log-ports.js';
import type { PreviewRecord } from '#core/preview.js';
import { logger } from '#handlers/logger.js';
import { useServiceOverrides } from '#handlers/services.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';

const previewId = 'preview_0mwwx0c389de91667e5704613';
const taskId = '5b6c2f0e7a3d4e1f9a8b7c6d5e4f3a2b';
const databasePassword = 'Q2hhbmdlLW1lLXBsZWFzZQ';
const endpoint = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod';

const fixture = (name: string, folder: 'logs' | 'aws' = 'logs') =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/${folder}/${name}.json`, import.meta.url), 'utf8'),
  ) as CloudWatchLogsEvent;

const management = mockClient(ApiGatewayManagementApiClient);
let db: TestDynamoDb;
let connections: DynamoDbConnectionStore;
let directory: string;
let fanOut: (event: CloudWatchLogsEvent) => Promise<unknown>;

const connection = (connectionId: string, changes: Partial<LiveConnection> = {}): LiveConnection => ({
  connectionId,
  previewId,
  userId: 'user-1',
  generationId: 'g1',
  connectedAt: '2025-10-20T12:00:00.000Z',
  filter: { level: 'DEBUG' },
  subscribed: true,
  replay: { buffer: 0 },
  live: true,
  ...changes,
});

/** What each connection was sent: the JSON lines of each PostToConnection, in order. */
function sent(): Record<string, unknown[]> {
  const byConnection: Record<string, unknown[]> = {};
  for (const call of management.commandCalls(PostToConnectionCommand)) {
    const { ConnectionId, Data } = call.args[0].input;
    const lines = Buffer.from(Data as Uint8Array)
      .toString('utf8')
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    (byConnection[ConnectionId as string] ??= []).push(...lines);
  }
  return byConnection;
}

beforeAll(async () => {
  db = await startTestDynamoDb();
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    ...db.environment,
  });
  connections = new DynamoDbConnectionStore(db.client, db.tables.connections);
  directory = await mkdtemp(join(tmpdir(), 'fan-out-'));
  useServiceOverrides({
    logs: {
      store: new FileLogStore(directory),
      sources: {
        taskOrigin: async (id) => (id === taskId ? { previewId, secrets: [databasePassword] } : undefined),
      },
      replay: { start: async () => undefined },
      exports: undefined,
      managementEndpoint: endpoint,
    },
  });
  fanOut = (await import('#handlers/logs/fan-out.js')).handler;
});

afterAll(async () => {
  management.restore();
  await db?.close();
  await rm(directory, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

beforeEach(async () => {
  management.reset();
  for (const c of await connections.byPreview(previewId)) await connections.remove(c.connectionId);
});

/** The fixture's events, whose timestamps and ids make the cursors. */
const events = CloudWatchLogsSchema.parse(fixture('subscription-data')).awslogs.data.logEvents;

const expectedLines = [
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.000Z',
    level: 'INFO',
    source: 'request',
    message: 'GET /api/users 200',
    metadata: { method: 'GET', path: '/api/users', statusCode: 200, duration: 45.2 },
  },
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.007Z',
    level: 'INFO',
    source: 'request',
    message: 'POST /api/users 201',
    metadata: { method: 'POST', path: '/api/users', statusCode: 201, client: '172.31.7.12:40512' },
  },
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.014Z',
    level: 'ERROR',
    source: 'request',
    message: 'GET /api/orders 500',
    metadata: { method: 'GET', path: '/api/orders', statusCode: 500, duration: 3.1 },
  },
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.021Z',
    level: 'INFO',
    source: 'database',
    message: 'connecting to postgresql://preview:***@localhost:5432/preview with Authorization: Bearer ***',
    metadata: {},
  },
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.028Z',
    level: 'INFO',
    source: 'database',
    message: 'the database password is ***',
    metadata: {},
  },
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.035Z',
    level: 'ERROR',
    source: 'error',
    message: 'Traceback (most recent call last):',
    metadata: {},
  },
  {
    type: 'log',
    timestamp: '2025-10-20T12:20:15.042Z',
    level: 'WARN',
    source: 'database',
    message: 'slow SQL statement took 1200ms',
    metadata: {},
  },
].map((line, n) => ({ ...line, cursor: `${events[n]?.timestamp}-${events[n]?.id}` }));

describe('the log fan-out handler', () => {
  it('reads a real subscription payload: one stream, several events', () => {
    const payload = CloudWatchLogsSchema.parse(fixture('subscription-data')).awslogs.data;
    expect(payload).toMatchObject({ messageType: 'DATA_MESSAGE', logStream: `preview/app/${taskId}` });
    expect(payload.logEvents).toHaveLength(7);
  });

  it('posts each live connection the lines its filters let through, secrets redacted, in one frame', async () => {
    await connections.put(connection('all='));
    await connections.put(connection('errors=', { filter: { level: 'ERROR' } }));
    await connections.put(
      connection('users=', { filter: { level: 'DEBUG', sources: ['request'], search: 'USERS' } }),
    );
    await connections.put(connection('resumed=', { liveAfter: expectedLines[4]!.cursor }));
    await connections.put(connection('replaying=', { live: false }));
    await connections.put(connection('unsubscribed=', { subscribed: false }));
    await connections.put(connection('other-preview=', { previewId: 'preview_0mwwx0c389de91667e5700000' }));
    management.on(PostToConnectionCommand).resolves({});

    const result = await fanOut(fixture('subscription-data'));

    expect(result).toMatchObject({ previewId, lines: 7, connections: 4, sent: 4, gone: 0, failed: 0 });
    const calls = management.commandCalls(PostToConnectionCommand).map((c) => c.args[0].input.ConnectionId);
    expect(calls.sort()).toEqual(['all=', 'errors=', 'resumed=', 'users=']);
    expect(sent()).toEqual({
      'all=': expectedLines,
      'errors=': [expectedLines[2], expectedLines[5]],
      'users=': [expectedLines[0], expectedLines[1]],
      'resumed=': expectedLines.slice(5),
    });
    const exact = management
      .commandCalls(PostToConnectionCommand)
      .find((c) => c.args[0].input.ConnectionId === 'errors=');
    expect(Buffer.from(exact?.args[0].input.Data as Uint8Array).toString('utf8')).toBe(
      `${JSON.stringify(expectedLines[2])}\n${JSON.stringify(expectedLines[5])}`,
    );
  });

  it('keeps the lines, redacted, for queries (where CloudWatch does not)', async () => {
    const stored = await readFile(join(directory, `${previewId}.jsonl`), 'utf8');
    expect(stored).not.toContain(databasePassword);
    expect(stored).not.toContain('eyJzdWIiOiJ1c2VyXzEyMyJ9');
    expect(
      stored
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(expectedLines.map(({ type: _type, ...entry }) => entry));
  });

  it('removes a connection that is gone (410) and still sends to the others', async () => {
    await connections.put(connection('gone='));
    await connections.put(connection('still-here='));
    management
      .on(PostToConnectionCommand, { ConnectionId: 'gone=' })
      .rejects(new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } }))
      .on(PostToConnectionCommand, { ConnectionId: 'still-here=' })
      .resolves({});

    const result = await fanOut(fixture('subscription-data'));

    expect(result).toMatchObject({ sent: 1, gone: 1, failed: 0 });
    expect(sent()['still-here=']).toEqual(expectedLines);
    expect((await connections.byPreview(previewId)).map((c) => c.connectionId)).toEqual(['still-here=']);
  });

  it("decodes AWS's own sample event, whose stream is no preview's: nothing is sent", async () => {
    const sample = fixture('cloudwatch-logs-subscription', 'aws');
    expect(CloudWatchLogsSchema.parse(sample).awslogs.data).toEqual({
      messageType: 'DATA_MESSAGE',
      owner: '123456789123',
      logGroup: 'testLogGroup',
      logStream: 'testLogStream',
      subscriptionFilters: ['testFilter'],
      logEvents: [
        { id: 'eventId1', timestamp: 1440442987000, message: '[ERROR] First test message' },
        { id: 'eventId2', timestamp: 1440442987001, message: '[ERROR] Second test message' },
      ],
    });
    await connections.put(connection('all='));
    expect(await fanOut(sample)).toMatchObject({ previewId: undefined, lines: 0 });
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it('refuses a payload that is not CloudWatch Logs data: logged with the reason, nothing sent, no throw', async () => {
    await connections.put(connection('all='));
    management.on(PostToConnectionCommand).resolves({});
    const refusals = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const encoded = (value: unknown) => gzipSync(JSON.stringify(value)).toString('base64');
    const bad: [string, unknown][] = [
      ['no awslogs', {}],
      ['not base64', { awslogs: { data: 'not base64!' } }],
      ['not gzip', { awslogs: { data: Buffer.from('plain text').toString('base64') } }],
      ['not JSON', { awslogs: { data: gzipSync('{"messageType":').toString('base64') } }],
      ['no events', { awslogs: { data: encoded({ messageType: 'DATA_MESSAGE', logEvents: [] }) } }],
    ];
    for (const [why, event] of bad) {
      expect(await fanOut(event as CloudWatchLogsEvent), why).toBeUndefined();
    }
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
    expect(refusals).toHaveBeenCalledTimes(bad.length);
    for (const [message, details] of refusals.mock.calls) {
      expect(message).toBe('refused a log subscription event that is not a CloudWatch Logs payload');
      expect((details as { problems: string[] }).problems.length).toBeGreaterThan(0);
    }
    expect(refusals.mock.calls[0]?.[1]).toEqual({
      problems: ['awslogs: Invalid input: expected object, received undefined'],
    });
  });

  it('skips control messages and streams of tasks that belong to no preview', async () => {
    await connections.put(connection('all='));
    management.on(PostToConnectionCommand).resolves({});
    expect(await fanOut(fixture('subscription-control'))).toBeUndefined();
    expect(await fanOut(fixture('subscription-unknown-task'))).toMatchObject({
      previewId: undefined,
      lines: 0,
    });
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });
});

describe('a token rotation, through the API Gateway Management API', () => {
  it("tells the old token's connections why, then deletes them; the current token's stay", async () => {
    const { services } = await import('#handlers/services.js');
    await connections.put(connection('old-1=', { tokenHash: 'hash-old' }));
    await connections.put(connection('old-gone=', { tokenHash: 'hash-old' }));
    await connections.put(connection('current=', { tokenHash: 'hash-new' }));
    management
      .on(PostToConnectionCommand)
      .resolves({})
      .on(DeleteConnectionCommand, { ConnectionId: 'old-gone=' })
      .rejects(new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } }))
      .on(DeleteConnectionCommand, { ConnectionId: 'old-1=' })
      .resolves({});

    const record = {
      previewId,
      generationId: 'g1',
      status: 'healthy',
      tokenHash: 'hash-new',
    } as PreviewRecord;
    await services().logs?.live.closeConnections(record, { cause: 'token_rotated' });

    const deleted = management.commandCalls(DeleteConnectionCommand).map((call) => call.args[0].input);
    expect(deleted.sort((a, b) => String(a.ConnectionId).localeCompare(String(b.ConnectionId)))).toEqual([
      { ConnectionId: 'old-1=' },
      { ConnectionId: 'old-gone=' },
    ]);
    // DeleteConnection takes no close code: the `closing` message before it carries it.
    const reason = {
      type: 'closing',
      code: 4003,
      reason: 'The preview token was rotated; get the current one with POST …/preview/token.',
      previewId,
      wsUrl: expect.stringMatching(/\/api\/generations\/g1\/preview\/logs$/),
    };
    expect(sent()).toEqual({ 'old-1=': [reason], 'old-gone=': [reason] });
    expect((await connections.byPreview(previewId)).map((c) => c.connectionId)).toEqual(['current=']);
  });
});
