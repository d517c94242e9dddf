import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PreviewTokenIndex } from '#core/log-ports.js';
import type { PreviewRecord } from '#core/preview.js';

/** The previews table's `byTokenHash` index: a preview token alone finds its preview. */
export class DynamoDbPreviewTokenIndex implements PreviewTokenIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findByTokenHash(tokenHash: string): Promise<PreviewRecord | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byTokenHash',
        KeyConditionExpression: 'tokenHash = :tokenHash',
        ExpressionAttributeValues: { ':tokenHash': tokenHash },
        Limit: 1,
      }),
    );
    return result.Items?.[0] as PreviewRecord | undefined;
  }
}
