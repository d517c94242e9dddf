import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '#core/clock.js';
import type { ConnectionChanges, ConnectionStore, LiveConnection } from '#core/log-ports.js';
import { isConditionFailure } from './dynamodb-errors.js';

/** API Gateway closes a WebSocket after 2 hours; an item left by a lost `$disconnect` goes an hour later. */
const connectionTtlSeconds = 3 * 3600;

/** WebSocket connections by id, with an index by preview (who gets a preview's lines). */
export class DynamoDbConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(connection: LiveConnection): Promise<void> {
    const expiresAtEpoch = epochSeconds(new Date(connection.connectedAt)) + connectionTtlSeconds;
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...connection, expiresAtEpoch } }),
    );
  }

  async get(connectionId: string): Promise<LiveConnection | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { connectionId }, ConsistentRead: true }),
    );
    return result.Item && toConnection(result.Item);
  }

  async byPreview(previewId: string): Promise<LiveConnection[]> {
    const connections: LiveConnection[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        IndexName: 'byPreviewId',
        KeyConditionExpression: 'previewId = :previewId',
        ExpressionAttributeValues: { ':previewId': previewId },
      },
    );
    for await (const page of pages) connections.push(...(page.Items ?? []).map(toConnection));
    return connections;
  }

  async update(connectionId: string, changes: ConnectionChanges): Promise<boolean> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return (await this.get(connectionId)) !== undefined;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { connectionId },
          UpdateExpression: `SET ${entries.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#n${i}`, name])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
          ConditionExpression: 'attribute_exists(connectionId)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async remove(connectionId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { connectionId } }));
  }
}

function toConnection(item: Record<string, unknown>): LiveConnection {
  const { expiresAtEpoch: _ttl, ...connection } = item;
  return connection as unknown as LiveConnection;
}
