import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { QuotaStore } from '#core/ports.js';
import { isConditionFailure } from './dynamodb-errors.js';

/**
 * One item per user holding the set of live preview ids. Adding to the set is conditional on
 * its size, so concurrent launches can never exceed the limit; adding or removing an id twice
 * changes nothing, so retries are safe.
 */
export class DynamoDbQuotaStore implements QuotaStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(userId: string, previewId: string, limit: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { userId },
          UpdateExpression: 'ADD live :ids',
          ConditionExpression: 'attribute_not_exists(live) OR size(live) < :limit OR contains(live, :id)',
          ExpressionAttributeValues: { ':ids': new Set([previewId]), ':limit': limit, ':id': previewId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async release(userId: string, previewId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { userId },
        UpdateExpression: 'DELETE live :ids',
        ExpressionAttributeValues: { ':ids': new Set([previewId]) },
      }),
    );
  }

  async live(userId: string): Promise<string[]> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { userId }, ConsistentRead: true }),
    );
    const live = result.Item?.live as Set<string> | undefined;
    return live ? [...live] : [];
  }
}
