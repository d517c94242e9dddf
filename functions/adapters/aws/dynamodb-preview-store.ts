import {
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  paginateScan,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { AppError } from '#core/errors.js';
import type { PreviewChanges, PreviewCondition, PreviewKey, PreviewStore } from '#core/ports.js';
import type { PreviewRecord } from '#core/preview.js';
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
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'userId = :userId',
        ExpressionAttributeValues: { ':userId': userId },
      },
    );
    for await (const page of pages) records.push(...((page.Items ?? []) as PreviewRecord[]));
    return records;
  }

  async listLive(): Promise<PreviewRecord[]> {
    const records: PreviewRecord[] = [];
    // A scan: the table holds one item per user and generation, and schedules run every few seconds.
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: 'NOT #status IN (:stopped, :failed)',
        // The schedules decide on what they read here: a consistent read sees every finished write.
        ConsistentRead: true,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':stopped': 'stopped', ':failed': 'failed' },
      },
    );
    for await (const page of pages) records.push(...((page.Items ?? []) as PreviewRecord[]));
    return records;
  }

  async create(record: PreviewRecord, replacing?: PreviewRecord): Promise<void> {
    const condition = replacing
      ? {
          ConditionExpression: 'previewId = :previewId AND #status IN (:stopped, :failed)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':previewId': replacing.previewId,
            ':stopped': 'stopped',
            ':failed': 'failed',
          },
        }
      : { ConditionExpression: 'attribute_not_exists(userId)' };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: record, ...condition }));
    } catch (error) {
      if (isConditionFailure(error)) throw changedMeanwhile();
      throw error;
    }
  }

  async modify(
    preview: PreviewKey,
    changes: PreviewChanges,
    condition: PreviewCondition = {},
  ): Promise<PreviewRecord> {
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':one': 1, ':previewId': preview.previewId };
    const sets: string[] = [];
    const removes: string[] = [];
    Object.entries(changes).forEach(([field, value], index) => {
      names[`#c${index}`] = field;
      if (value === undefined) {
        removes.push(`#c${index}`);
      } else {
        values[`:c${index}`] = value;
        sets.push(`#c${index} = :c${index}`);
      }
    });
    const conditions = ['previewId = :previewId'];
    if (condition.status) {
      names['#status'] = 'status';
      const placeholders = condition.status.map((status, index) => {
        values[`:s${index}`] = status;
        return `:s${index}`;
      });
      conditions.push(`#status IN (${placeholders.join(', ')})`);
    }
    Object.entries(condition.equals ?? {}).forEach(([path, value], index) => {
      const attribute = path
        .split('.')
        .map((segment, depth) => {
          names[`#e${index}_${depth}`] = segment;
          return `#e${index}_${depth}`;
        })
        .join('.');
      if (value === null) {
        conditions.push(`attribute_not_exists(${attribute})`);
      } else {
        values[`:e${index}`] = value;
        conditions.push(`${attribute} = :e${index}`);
      }
    });
    const update = [
      ...(sets.length > 0 ? [`SET ${sets.join(', ')}`] : []),
      ...(removes.length > 0 ? [`REMOVE ${removes.join(', ')}`] : []),
      'ADD #version :one',
    ].join(' ');
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { userId: preview.userId, generationId: preview.generationId },
          UpdateExpression: update,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes as PreviewRecord;
    } catch (error) {
      if (isConditionFailure(error)) throw changedMeanwhile();
      throw error;
    }
  }
}
