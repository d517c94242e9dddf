import { ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '#adapters/aws/clients.js';
import { startLocalDynamoDb, type LocalDynamoDb } from '#local/local-dynamodb.js';

let server: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  server = await startLocalDynamoDb();
  // The service's own client: its sockets, its retries.
  client = createDynamoDbClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

/** Calls at once, as a hundred previews' status polls and launches make them; answers the failures. */
async function burst(calls: number): Promise<string[]> {
  const results = await Promise.allSettled(
    Array.from({ length: calls }, () => client.send(new ListTablesCommand({}))),
  );
  return results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
}

describe('the local DynamoDB API under the service’s client', () => {
  it('answers a burst after the client’s sockets sat idle longer than an HTTP server keeps them', async () => {
    expect(await burst(300)).toEqual([]);
    // Node's servers close connections idle for 5 s unless told otherwise.
    await sleep(5_500);
    expect(await burst(300)).toEqual([]);
  });
});
