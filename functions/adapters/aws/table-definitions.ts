/**
 * Key schemas of the service's DynamoDB tables: the CDK stack creates them in AWS and the
 * local runtime creates them in the local DynamoDB, so both always agree.
 */
export interface TableDefinition {
  /** Logical name; also the suffix of the local table name. */
  readonly name: 'previews' | 'quotas' | 'events' | 'connections' | 'metrics';
  /** Environment variable that carries the physical table name to the functions. */
  readonly envVar: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes: readonly {
    readonly name: string;
    readonly partitionKey: string;
    readonly sortKey?: string;
  }[];
  /** Epoch-seconds attribute DynamoDB TTL deletes by (cleanup of history; never relied on as a timer). */
  readonly ttlAttribute?: string;
}

export const tableDefinitions: readonly TableDefinition[] = [
  {
    // One item per (user, generation): the user's current preview of that generation.
    name: 'previews',
    envVar: 'PREVIEWS_TABLE',
    partitionKey: 'userId',
    sortKey: 'generationId',
    indexes: [
      { name: 'byPreviewId', partitionKey: 'previewId' },
      // The WebSocket handshake finds a preview by its token alone (stored hashed).
      { name: 'byTokenHash', partitionKey: 'tokenHash' },
    ],
  },
  {
    // One item per user: the set of live preview ids, bounded by the tier's quota.
    name: 'quotas',
    envVar: 'QUOTAS_TABLE',
    partitionKey: 'userId',
    indexes: [],
  },
  {
    name: 'events',
    envVar: 'EVENTS_TABLE',
    partitionKey: 'previewId',
    sortKey: 'eventId',
    indexes: [],
    ttlAttribute: 'expiresAtEpoch',
  },
  {
    name: 'connections',
    envVar: 'CONNECTIONS_TABLE',
    partitionKey: 'connectionId',
    indexes: [{ name: 'byPreviewId', partitionKey: 'previewId' }],
    ttlAttribute: 'expiresAtEpoch',
  },
  {
    name: 'metrics',
    envVar: 'METRICS_TABLE',
    partitionKey: 'previewId',
    sortKey: 'bucket',
    indexes: [],
    ttlAttribute: 'expiresAtEpoch',
  },
];
