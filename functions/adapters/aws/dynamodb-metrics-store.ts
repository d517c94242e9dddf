import {
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '#core/clock.js';
import { minuteOf, type RequestBucket, type ResourceSample } from '#core/metrics.js';
import type { MetricsStore } from '#core/ports.js';

const requestPrefix = 'req#';
const resourcePrefix = 'res#';
const latestResources = `${resourcePrefix}latest`;
/** Sketch buckets are top-level attributes `q<index>`, so one UpdateItem can ADD to any of them. */
const sketchAttribute = /^q(-?\d+)$/;
const errorTypeAttribute = /^e_(\w+)$/;

/**
 * Metrics by preview: one item per minute of requests (counts, sums, sketch buckets, all
 * updated with ADD so concurrent writers never lose a count) and per minute of resources.
 */
export class DynamoDbMetricsStore implements MetricsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async addRequests(previewId: string, bucket: RequestBucket): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':requests': bucket.requests,
      ':errors': bucket.errors,
      ':duration': bucket.durationSumMs,
      ':in': bucket.bytesIn,
      ':out': bucket.bytesOut,
      ':ttl': this.expiry(new Date(bucket.minute)),
    };
    const adds = [
      'requests :requests',
      'errors :errors',
      'durationSumMs :duration',
      'bytesIn :in',
      'bytesOut :out',
    ];
    Object.entries(bucket.sketch).forEach(([index, count], i) => {
      names[`#q${i}`] = `q${index}`;
      values[`:q${i}`] = count;
      adds.push(`#q${i} :q${i}`);
    });
    Object.entries(bucket.errorTypes).forEach(([type, count], i) => {
      names[`#e${i}`] = `e_${type}`;
      values[`:e${i}`] = count;
      adds.push(`#e${i} :e${i}`);
    });
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { previewId, bucket: `${requestPrefix}${bucket.minute}` },
        UpdateExpression: `ADD ${adds.join(', ')} SET expiresAtEpoch = :ttl`,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
      }),
    );
  }

  async requestBuckets(
    previewId: string,
    range: { start?: Date; end?: Date } = {},
  ): Promise<RequestBucket[]> {
    const from = `${requestPrefix}${range.start ? minuteOf(range.start) : ''}`;
    const to = `${requestPrefix}${range.end ? minuteOf(range.end) : '~'}`;
    return (await this.between(previewId, from, to)).map(toRequestBucket);
  }

  async recordResources(previewId: string, sample: ResourceSample): Promise<void> {
    const item = { previewId, ...sample, expiresAtEpoch: this.expiry(new Date(sample.at)) };
    await Promise.all([
      this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { ...item, bucket: latestResources } }),
      ),
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, bucket: `${resourcePrefix}${minuteOf(new Date(sample.at))}` },
        }),
      ),
    ]);
  }

  async latestResources(previewId: string): Promise<ResourceSample | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { previewId, bucket: latestResources } }),
    );
    return result.Item && toResourceSample(result.Item);
  }

  async resourceSamples(previewId: string, range: { start: Date; end: Date }): Promise<ResourceSample[]> {
    // `res#latest` sorts after every `res#<minute>`, so the range never includes it.
    const items = await this.between(
      previewId,
      `${resourcePrefix}${minuteOf(range.start)}`,
      `${resourcePrefix}${minuteOf(range.end)}`,
    );
    return items.map(toResourceSample);
  }

  /** Every item of the preview whose bucket key is between `from` and `to` (included), in key order. */
  private async between(previewId: string, from: string, to: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'previewId = :previewId AND #bucket BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#bucket': 'bucket' },
        ExpressionAttributeValues: { ':previewId': previewId, ':from': from, ':to': to },
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  }

  private expiry(at: Date): number {
    return epochSeconds(at) + this.retentionDays * 86400;
  }
}

function toResourceSample(item: Record<string, unknown>): ResourceSample {
  const { previewId: _p, bucket: _b, expiresAtEpoch: _t, ...sample } = item;
  return sample as unknown as ResourceSample;
}

function toRequestBucket(item: Record<string, unknown>): RequestBucket {
  const sketch: Record<number, number> = {};
  const errorTypes: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    const q = sketchAttribute.exec(name);
    if (q?.[1] !== undefined) sketch[Number(q[1])] = Number(value);
    const e = errorTypeAttribute.exec(name);
    if (e?.[1] !== undefined) errorTypes[e[1]] = Number(value);
  }
  return {
    minute: String(item.bucket).slice(requestPrefix.length),
    requests: Number(item.requests ?? 0),
    errors: Number(item.errors ?? 0),
    durationSumMs: Number(item.durationSumMs ?? 0),
    bytesIn: Number(item.bytesIn ?? 0),
    bytesOut: Number(item.bytesOut ?? 0),
    errorTypes,
    sketch,
  };
}
