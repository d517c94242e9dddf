import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../core/errors.js';
import type { PreviewStore } from '../../core/ports.js';
import type { PreviewRecord } from '../../core/preview.js';
import { isConditionFailure } from './dynamodb-errors.js';

const changedMeanwhile = () =>
  new AppError('conflict', 'The preview changed meanwhile; read it again and retry.');

/** Previews keyed by (userId, generationId), with an index by previewId. */
export class DynamoDbPreviewStore implements PreviewStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(userId: string, generationId: string): Promise<PreviewRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { userId, generationId }, ConsistentRead: true }),
    );
    return result.Item as PreviewRecord | undefined;
  }

  async getById(previewId: string): Promise<PreviewRecord | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byPreviewId',
        KeyConditionExpression: 'previewId = :previewId',
        ExpressionAttributeValues: { ':previewId': previewId },
        ProjectionExpression: 'userId, generationId',
      }),
    );
    const key = result.Items?.[0];
    if (!key) return undefined;
    // Index reads are eventually consistent: read the item itself for the current state.
    const record = await this.get(String(key.userId), String(key.generationId));
    return record?.previewId === previewId ? record : undefined;
  }

  async listByUser(userId: string): Promise<PreviewRecord[]> {
    const records: PreviewRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'userId = :userId',
          ExpressionAttributeValues: { ':userId': userId },
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...((page.Items ?? []) as PreviewRecord[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  async listLive(): Promise<PreviewRecord[]> {
    const records: PreviewRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      // A scan: the table holds one item per user and generation, and schedules run every few seconds.
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'NOT #status IN (:stopped, :failed)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':stopped': 'stopped', ':failed': 'failed' },
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...((page.Items ?? []) as PreviewRecord[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  async create(record: PreviewRecord, replacing?: PreviewRecord): Promise<void> {
    const condition = replacing
      ? {
          ConditionExpression: 'previewId = :previewId AND #version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':previewId': replacing.previewId, ':version': replacing.version },
        }
      : { ConditionExpression: 'attribute_not_exists(userId)' };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: record, ...condition }));
    } catch (error) {
      if (isConditionFailure(error)) throw changedMeanwhile();
      throw error;
    }
  }

  async remove(record: PreviewRecord): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { userId: record.userId, generationId: record.generationId },
          ConditionExpression: 'previewId = :previewId AND #version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':previewId': record.previewId, ':version': record.version },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw changedMeanwhile();
      throw error;
    }
  }

  async update(current: PreviewRecord, next: PreviewRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: next,
          ConditionExpression: 'previewId = :previewId AND #version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':previewId': current.previewId, ':version': current.version },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw changedMeanwhile();
      throw error;
    }
  }
}
