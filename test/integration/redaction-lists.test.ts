import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRedactionLists } from '#adapters/aws/dynamodb-redaction-lists.js';
import { startLocalDynamoDb, type LocalDynamoDb } from '#local/local-dynamodb.js';

const tableName = 'preview-redactions';
let server: LocalDynamoDb;
let raw: DynamoDBClient;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  server = await startLocalDynamoDb();
  raw = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(raw);
  // The key schema the stack gives the table (lib/preview-secrets.ts).
  await raw.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'previewId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'previewId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  raw.destroy();
  await server.close();
});

describe('DynamoDbRedactionLists', () => {
  it('adds the secrets of each launch to the preview list, kept until the latest expiry', async () => {
    const lists = new DynamoDbRedactionLists(client, tableName);
    await lists.add(
      'preview_a',
      ['first-password', 'postgresql://u:first-password@h/d'],
      new Date(1_000_000_000),
    );
    await lists.add('preview_a', ['second-password', 'first-password'], new Date(2_000_000_500));
    await lists.add('preview_a', [], new Date(3_000_000_000));

    expect((await lists.secrets('preview_a')).sort()).toEqual([
      'first-password',
      'postgresql://u:first-password@h/d',
      'second-password',
    ]);
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { previewId: 'preview_a' } }),
    );
    expect(Item?.expiresAtEpoch).toBe(2_000_001);
  });

  it('knows no secrets of a preview that had none', async () => {
    await expect(new DynamoDbRedactionLists(client, tableName).secrets('preview_b')).resolves.toEqual([]);
  });
});
