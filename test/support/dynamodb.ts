import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { createDynamoDbClient, documentClientOf } from '#adapters/aws/clients.js';
import { tableDefinitions, type TableDefinition } from '#adapters/aws/table-definitions.js';
import { ensureTables, startLocalDynamoDb, type LocalDynamoDb } from '#local/local-dynamodb.js';

export interface TestDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBDocumentClient;
  readonly tables: Record<TableDefinition['name'], string>;
  /** The variables that point the service's configuration at these tables. */
  readonly environment: Record<string, string>;
  close(): Promise<void>;
}

/** A real DynamoDB API (dynalite, in memory) with the service's tables under fresh names. */
export async function startTestDynamoDb(): Promise<TestDynamoDb> {
  const server: LocalDynamoDb = await startLocalDynamoDb();
  const suffix = randomBytes(4).toString('hex');
  const tables = Object.fromEntries(tableDefinitions.map((t) => [t.name, `${t.name}-${suffix}`])) as Record<
    TableDefinition['name'],
    string
  >;
  await ensureTables(server.endpoint, tables);
  const raw = dynamoDbClientOn(server.endpoint);
  const client = documentClientOf(raw);
  return {
    endpoint: server.endpoint,
    client,
    tables,
    environment: Object.fromEntries(tableDefinitions.map((t) => [t.envVar, tables[t.name]])),
    async close() {
      raw.destroy();
      await server.close();
    },
  };
}

/** The service's own DynamoDB client (its retries and error mapping) pointed at a local endpoint. */
export function dynamoDbClientOn(endpoint: string): DynamoDBClient {
  return createDynamoDbClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
