import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dynamoDbMaxAttempts, documentClientOf } from '#adapters/aws/clients.js';
import { useServiceOverrides } from '#handlers/services.js';
import { dynamoDbClientOn, startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy } from '../support/dynamodb-fault-proxy.js';
import { anyGeneration, previewServiceOn, RecordingStarter } from '../support/preview-service.js';

let db: TestDynamoDb;
let proxy: DynamoDbFaultProxy;
/** The tables through the fault proxy, with the service's own client (its retries, its error mapping). */
let faulty: TestDynamoDb;
let launchHandler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let statusHandler: typeof launchHandler;
const starter = new RecordingStarter();

beforeAll(async () => {
  db = await startTestDynamoDb();
  proxy = await startDynamoDbFaultProxy(db.endpoint);
  faulty = { ...db, client: documentClientOf(dynamoDbClientOn(proxy.endpoint)) };
  // The handlers build their services from the environment, as in AWS, with DynamoDB behind the proxy.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    // The test's generation names no owner, as the bundled examples.
    PREVIEW_ALLOW_UNOWNED_GENERATIONS: 'true',
    ...db.environment,
  });
  useServiceOverrides({ generations: anyGeneration, starter });
  launchHandler = (await import('#handlers/http/launch-preview.js')).handler;
  statusHandler = (await import('#handlers/http/get-preview-status.js')).handler;
});

afterAll(async () => {
  await proxy?.close();
  await db?.close();
});

beforeEach(() => proxy.reset());

function routeEvent(userId: string, generationId: string, body?: unknown): APIGatewayProxyEvent {
  return {
    httpMethod: body === undefined ? 'GET' : 'POST',
    path: `/api/generations/${generationId}/preview`,
    pathParameters: { generationId },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: 'test', authorizer: { principalId: userId, tier: 'free' } },
  } as unknown as APIGatewayProxyEvent;
}

const context = {} as Context;
const attemptsOf = (operation: string, table: string) =>
  proxy.seen.filter((r) => r.operation === operation && r.table === table);

describe('DynamoDB throttling and server errors', () => {
  it('retries them with backoff, unseen by the caller while a retry succeeds', async () => {
    const { service } = previewServiceOn(faulty);
    const alice = { userId: 'alice-f', tier: 'free' as const };
    proxy.inject({ operation: 'UpdateItem', table: db.tables.quotas, fault: 'throttling', times: 2 });
    proxy.inject({ operation: 'PutItem', table: db.tables.previews, fault: 'server_error', times: 2 });
    const launched = await service.launch(alice, 'retried', {});
    expect(launched.outcome).toBe('launched');
    expect(attemptsOf('UpdateItem', db.tables.quotas).map((r) => r.faulted)).toEqual([true, true, false]);
    expect(attemptsOf('PutItem', db.tables.previews).map((r) => r.faulted)).toEqual([true, true, false]);

    proxy.inject({ operation: 'GetItem', table: db.tables.previews, fault: 'throttling', times: 3 });
    await expect(service.status(alice, 'retried')).resolves.toMatchObject({ status: 'requested' });
  });

  it('answers 503 with Retry-After once the retries are spent, never 500', async () => {
    const launched = await launchHandler(routeEvent('bob-f', 'gone-quiet', {}), context);
    expect(launched.statusCode).toBe(202);

    proxy.reset();
    proxy.inject({ operation: 'GetItem', table: db.tables.previews, fault: 'server_error', times: 100 });
    const status = await statusHandler(routeEvent('bob-f', 'gone-quiet'), context);
    expect(status.statusCode).toBe(503);
    expect(status.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(status.body).error.code).toBe('unavailable');
    expect(attemptsOf('GetItem', db.tables.previews)).toHaveLength(dynamoDbMaxAttempts);

    proxy.reset();
    proxy.inject({ operation: 'GetItem', table: db.tables.previews, fault: 'throttling', times: 100 });
    const throttled = await statusHandler(routeEvent('bob-f', 'gone-quiet'), context);
    expect(throttled.statusCode).toBe(503);
    expect(throttled.headers?.['retry-after']).toBe('1');

    proxy.reset();
    expect((await statusHandler(routeEvent('bob-f', 'gone-quiet'), context)).statusCode).toBe(200);
  });
});

describe('an unreachable DynamoDB', () => {
  it('is unavailable (503, retry later), not an internal error', async () => {
    const closed = await startDynamoDbFaultProxy(db.endpoint);
    const endpoint = closed.endpoint;
    await closed.close();
    const client = dynamoDbClientOn(endpoint);
    const { service } = previewServiceOn({ ...db, client: documentClientOf(client) });
    await expect(service.status({ userId: 'erin-f', tier: 'free' }, 'nowhere')).rejects.toMatchObject({
      code: 'unavailable',
      retryAfterSeconds: 1,
    });
    client.destroy();
  });
});

describe('a launch meeting a fault between its reservation and its record', () => {
  it('leaves neither: no record and no quota slot, and answers 503', async () => {
    const { previews, quotas } = previewServiceOn(db);
    proxy.inject({ operation: 'PutItem', table: db.tables.previews, fault: 'server_error', times: 100 });
    const refused = await launchHandler(routeEvent('carol-f', 'half-done', {}), context);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers?.['retry-after']).toBe('1');
    // The reservation was made, then given back when the record could not be written.
    expect(attemptsOf('UpdateItem', db.tables.quotas).length).toBeGreaterThanOrEqual(2);
    expect(await previews.get('carol-f', 'half-done')).toBeUndefined();
    expect(await quotas.live('carol-f')).toEqual([]);

    proxy.reset();
    const retried = await launchHandler(routeEvent('carol-f', 'half-done', {}), context);
    expect(retried.statusCode).toBe(202);
    const record = await previews.get('carol-f', 'half-done');
    expect(await quotas.live('carol-f')).toEqual([record?.previewId]);
  });

  it('writes no record when the reservation itself fails', async () => {
    const { previews, quotas } = previewServiceOn(db);
    proxy.inject({ operation: 'UpdateItem', table: db.tables.quotas, fault: 'throttling', times: 100 });
    const refused = await launchHandler(routeEvent('dan-f', 'no-slot', {}), context);
    expect(refused.statusCode).toBe(503);
    expect(attemptsOf('PutItem', db.tables.previews)).toEqual([]);
    expect(await previews.get('dan-f', 'no-slot')).toBeUndefined();
    expect(await quotas.live('dan-f')).toEqual([]);
  });
});
