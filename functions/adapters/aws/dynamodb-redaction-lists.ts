import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RedactionLists } from '#core/log-ports.js';

/**
 * Redaction lists in their own DynamoDB table (encrypted with the stack's secrets key): one item per
 * preview, `{ previewId, secrets: string set, expiresAtEpoch }`, which TTL removes once the preview's
 * logs are gone too. Adding is one update, so concurrent launches of a preview lose nothing.
 */
export class DynamoDbRedactionLists implements RedactionLists {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(previewId: string, secrets: readonly string[], keepUntil: Date): Promise<void> {
    if (secrets.length === 0) return;
    // Launches come in time order and the retention is the stage's, so a later one keeps longer.
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { previewId },
        UpdateExpression: 'ADD secrets :secrets SET expiresAtEpoch = :expires',
        ExpressionAttributeValues: {
          ':secrets': new Set(secrets),
          ':expires': Math.ceil(keepUntil.getTime() / 1000),
        },
      }),
    );
  }

  async secrets(previewId: string): Promise<string[]> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { previewId }, ConsistentRead: true }),
    );
    const secrets = Item?.secrets as Set<string> | undefined;
    return secrets ? [...secrets] : [];
  }
}
