import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { tableDefinitions, type TableDefinition } from '#adapters/aws/table-definitions.js';

/** The longest `close` waits for the requests being answered. */
const closeGraceMs = 5_000;

/**
 * The local DynamoDB API: dynalite (pure JavaScript, starts in milliseconds, data on disk).
 * It lacks transactions and TTL expiry, which the service does not use: every atomic step is a
 * single-item conditional write, and expiry is the sweeper's job.
 */
export interface LocalDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startLocalDynamoDb(
  options: { path?: string; port?: number } = {},
): Promise<LocalDynamoDb> {
  if (options.path) await mkdir(options.path, { recursive: true });
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // The service's client keeps its sockets open between bursts. Node closes a connection idle for
  // 5 s by default: the next burst then meets reset sockets by the hundred, whose retries empty the
  // SDK's retry budget, and the rest surface as 503s. Idle connections stay open; `close` ends them.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // Requests being answered: `close` waits for them, since dynalite closes its store once the last
  // connection ends, and an operation cut off between its steps throws out of it (uncaught).
  let answering = 0;
  let answered: (() => void) | undefined;
  server.on('request', (_request, response) => {
    answering += 1;
    response.once('close', () => {
      answering -= 1;
      if (answering === 0) answered?.();
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (answering > 0) {
        const drained = new Promise<void>((resolve) => (answered = resolve));
        await Promise.race([drained, sleep(closeGraceMs, undefined, { ref: false })]);
      }
      // With no keep-alive timeout, a connection that was busy would otherwise stay open once idle.
      server.closeAllConnections();
      await closed;
    },
  };
}

function createTableInput(tableName: string, table: TableDefinition): CreateTableCommandInput {
  const keyNames = new Set([
    table.partitionKey,
    table.sortKey,
    ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...keyNames]
      .filter((name): name is string => name !== undefined)
      .map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' },
      ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
              ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

/** Creates the service's tables that do not exist yet, under the names in `tableNames`. */
export async function ensureTables(
  endpoint: string,
  tableNames: Record<TableDefinition['name'], string>,
): Promise<void> {
  // The emulator accepts any credentials and region; the environment may not have any.
  const client = new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of tableDefinitions) {
      const name = tableNames[table.name];
      if (!existing.has(name)) await client.send(new CreateTableCommand(createTableInput(name, table)));
    }
  } finally {
    client.destroy();
  }
}
