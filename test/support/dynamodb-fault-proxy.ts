import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What DynamoDB answers when it throttles (400) or fails (500), as its JSON protocol spells it. */
const faultAnswers = {
  throttling: {
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded.',
    },
  },
  server_error: {
    status: 500,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: 'Internal server error',
    },
  },
} as const;

export interface FaultRule {
  /** The API operation: `GetItem`, `PutItem`, `UpdateItem`, `Query`, … */
  readonly operation: string;
  /** Only requests to this table; any table when absent. */
  readonly table?: string;
  readonly fault: keyof typeof faultAnswers;
  /** How many matching requests fail before they pass again. */
  readonly times: number;
}

export interface SeenRequest {
  readonly operation: string;
  readonly table: string | undefined;
  readonly faulted: boolean;
}

/**
 * A small HTTP proxy in front of a local DynamoDB API that answers chosen requests with
 * throttling or server errors, so the real SDK meets them (and retries them) as it would in AWS.
 */
export interface DynamoDbFaultProxy {
  readonly endpoint: string;
  /** Every request seen since the last `reset`, faulted or passed on. */
  readonly seen: SeenRequest[];
  inject(rule: FaultRule): void;
  reset(): void;
  close(): Promise<void>;
}

async function bodyOf(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startDynamoDbFaultProxy(upstream: string): Promise<DynamoDbFaultProxy> {
  const target = new URL(upstream);
  const rules: { rule: FaultRule; left: number }[] = [];
  const seen: SeenRequest[] = [];

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const body = await bodyOf(incoming);
    const operation = String(incoming.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const parsed = JSON.parse(body.toString('utf8') || '{}') as { TableName?: string };
    const match = rules.find(
      ({ rule, left }) =>
        left > 0 &&
        rule.operation === operation &&
        (rule.table === undefined || rule.table === parsed.TableName),
    );
    seen.push({ operation, table: parsed.TableName, faulted: match !== undefined });
    if (match) {
      match.left -= 1;
      const answer = faultAnswers[match.rule.fault];
      outgoing.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      outgoing.end(JSON.stringify(answer.body));
      return;
    }
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    forwarded.end(body);
  };

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch(() => outgoing.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    inject: (rule) => rules.push({ rule, left: rule.times }),
    reset() {
      rules.length = 0;
      seen.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
