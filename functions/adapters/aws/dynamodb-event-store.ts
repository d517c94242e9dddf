import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '#core/clock.js';
import type { EventStore, Page } from '#core/ports.js';
import type { PreviewEvent } from '#core/preview.js';
import { decodePageToken, encodePageToken } from './page-token.js';

/** The audit trail: events by preview, oldest first, kept for the retention period. */
export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async append(event: PreviewEvent): Promise<void> {
    const expiresAtEpoch = epochSeconds(new Date(event.at)) + this.retentionDays * 86400;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...event, expiresAtEpoch },
        ConditionExpression: 'attribute_not_exists(eventId)',
      }),
    );
  }

  async list(previewId: string, options: { limit: number; nextToken?: string }): Promise<Page<PreviewEvent>> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'previewId = :previewId',
        ExpressionAttributeValues: { ':previewId': previewId },
        Limit: options.limit,
        ExclusiveStartKey: decodePageToken(options.nextToken, ['previewId', 'eventId'], { previewId }),
      }),
    );
    const items = (result.Items ?? []).map(({ expiresAtEpoch: _ttl, ...event }) => event as PreviewEvent);
    const nextToken = encodePageToken(result.LastEvaluatedKey);
    return nextToken === undefined ? { items } : { items, nextToken };
  }
}
