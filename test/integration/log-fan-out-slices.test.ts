import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchLogsSchema } from '@aws-lambda-powertools/parser/schemas/cloudwatch';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbConnectionStore } from '#adapters/aws/dynamodb-connection-store.js';
import { LambdaFanOutSlicer } from '#adapters/aws/lambda-fan-out-slicer.js';
import { FileLogStore } from '#adapters/local/file-log-store.js';
import type { LiveConnection } from '#core/log-ports.js';
import type { FanOutEvent } from '#handlers/logs/fan-out.js';
import { useServiceOverrides } from '#handlers/services.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';

const previewId = 'preview_0mwwx0c389de91667e5704613';
const taskId = '5b6c2f0e7a3d4e1f9a8b7c6d5e4f3a2b';
const fanOutFunction = 'preview-test-log-fan-out';
const delivery = JSON.parse(
  readFileSync(new URL('../fixtures/logs/subscription-data.json', import.meta.url), 'utf8'),
) as CloudWatchLogsEvent;
const payload = CloudWatchLogsSchema.parse(delivery).awslogs.data;

const management = mockClient(ApiGatewayManagementApiClient);
const lambda = mockClient(LambdaClient);
let db: TestDynamoDb;
let connections: DynamoDbConnectionStore;
let directory: string;
let fanOut: (event: FanOutEvent) => Promise<unknown>;

const connection = (connectionId: string): LiveConnection => ({
  connectionId,
  previewId,
  userId: 'user-1',
  generationId: 'g1',
  connectedAt: '2025-10-20T12:00:00.000Z',
  filter: { level: 'DEBUG' },
  subscribed: true,
  replay: { buffer: 0 },
  live: true,
});

/** The lines each connection was posted, by connection id. */
function linesPosted(): Record<string, number> {
  const byConnection: Record<string, number> = {};
  for (const call of management.commandCalls(PostToConnectionCommand)) {
    const { ConnectionId, Data } = call.args[0].input;
    const lines = Buffer.from(Data as Uint8Array)
      .toString('utf8')
      .split('\n').length;
    byConnection[ConnectionId as string] = (byConnection[ConnectionId as string] ?? 0) + lines;
  }
  return byConnection;
}

/** The asynchronous invocations of the fan-out function, as the events they carry. */
function slicesStarted(): FanOutEvent[] {
  return lambda.commandCalls(InvokeCommand).map((call) => {
    const { FunctionName, InvocationType, Payload, ...rest } = call.args[0].input;
    expect({ FunctionName, InvocationType, rest }).toEqual({
      FunctionName: fanOutFunction,
      InvocationType: 'Event',
      rest: {},
    });
    return JSON.parse(Buffer.from(Payload as Uint8Array).toString('utf8')) as FanOutEvent;
  });
}

beforeAll(async () => {
  db = await startTestDynamoDb();
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    PREVIEW_FAN_OUT_SLICE_CONNECTIONS: '2',
    ...db.environment,
  });
  connections = new DynamoDbConnectionStore(db.client, db.tables.connections);
  directory = await mkdtemp(join(tmpdir(), 'fan-out-slices-'));
  useServiceOverrides({
    logs: {
      store: new FileLogStore(directory),
      sources: { taskOrigin: async (id) => (id === taskId ? { previewId, secrets: [] } : undefined) },
      replay: { start: async () => undefined },
      exports: undefined,
      managementEndpoint: 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod',
      slicer: new LambdaFanOutSlicer(new LambdaClient({}), fanOutFunction),
    },
  });
  fanOut = (await import('#handlers/logs/fan-out.js')).handler;
});

afterAll(async () => {
  management.restore();
  lambda.restore();
  delete process.env.PREVIEW_FAN_OUT_SLICE_CONNECTIONS;
  await db?.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(async () => {
  management.reset();
  lambda.reset();
  management.on(PostToConnectionCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  for (const c of await connections.byPreview(previewId)) await connections.remove(c.connectionId);
});

describe('a fan-out to more connections than one invocation serves', () => {
  it('sends the first slice itself and hands each other slice to an asynchronous invocation of itself', async () => {
    const ids = ['c1=', 'c2=', 'c3=', 'c4=', 'c5='];
    for (const id of ids) await connections.put(connection(id));

    const result = await fanOut(delivery);

    expect(result).toMatchObject({ previewId, lines: 7, connections: 2, slices: 2, sent: 2 });
    const slices = slicesStarted();
    // Slices of two; together with the connections posted here, every connection once.
    expect(slices.map((s) => s.connectionIds?.length)).toEqual([2, 1]);
    const servedHere = Object.keys(linesPosted());
    expect([...servedHere, ...slices.flatMap((s) => s.connectionIds ?? [])].sort()).toEqual(ids);
    for (const slice of slices) {
      expect(
        JSON.parse(gunzipSync(Buffer.from(slice.awslogs.data, 'base64')).toString('utf8')),
      ).toMatchObject({
        messageType: 'DATA_MESSAGE',
        logGroup: payload.logGroup,
        logStream: payload.logStream,
        logEvents: payload.logEvents,
      });
    }
    expect(Object.values(linesPosted())).toEqual([7, 7]);

    // Lambda runs each slice: it sends to its connections alone, keeps no line again, slices no further.
    management.reset();
    management.on(PostToConnectionCommand).resolves({});
    lambda.reset();
    const kept = await readFile(join(directory, `${previewId}.jsonl`), 'utf8');
    const results = await Promise.all(slices.map((slice) => fanOut(slice)));

    expect(results).toEqual([
      expect.objectContaining({ connections: 2, slices: 0, sent: 2 }),
      expect.objectContaining({ connections: 1, slices: 0, sent: 1 }),
    ]);
    expect(linesPosted()).toEqual(
      Object.fromEntries(slices.flatMap((s) => s.connectionIds ?? []).map((id) => [id, 7])),
    );
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(await readFile(join(directory, `${previewId}.jsonl`), 'utf8')).toBe(kept);
  });

  it('serves a slice itself when it cannot be handed over', async () => {
    for (const id of ['c1=', 'c2=', 'c3=']) await connections.put(connection(id));
    lambda.on(InvokeCommand).rejects(new Error('TooManyRequestsException'));

    const result = await fanOut(delivery);

    expect(result).toMatchObject({ connections: 3, slices: 0, sent: 3 });
    expect(linesPosted()).toEqual({ 'c1=': 7, 'c2=': 7, 'c3=': 7 });
  });

  it('serves every connection itself up to the slice size', async () => {
    for (const id of ['c1=', 'c2=']) await connections.put(connection(id));

    const result = await fanOut(delivery);

    expect(result).toMatchObject({ connections: 2, slices: 0, sent: 2 });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('refuses a slice whose connection ids are not a list of ids: nothing is sent', async () => {
    await connections.put(connection('c1='));

    const result = await fanOut({ ...delivery, connectionIds: [] });

    expect(result).toBeUndefined();
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });
});
