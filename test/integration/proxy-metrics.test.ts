import type { APIGatewayProxyEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbPreviewStore } from '#adapters/aws/dynamodb-preview-store.js';
import { previewRecord } from '../support/in-memory.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { lambdaContext } from '../support/lambda-context.js';

/** The proxy function as Lambda runs it: its own cost per request is published as EMF. */

const restEvent = JSON.parse(
  readFileSync(new URL('../fixtures/aws/rest-api-proxy-event.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEvent;

let db: TestDynamoDb;
let app: Server;

beforeAll(async () => {
  db = await startTestDynamoDb();
  app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  await new DynamoDbPreviewStore(db.client, db.tables.previews).create(
    previewRecord({
      previewId: 'p1',
      userId: 'user-1',
      generationId: 'g1',
      status: 'healthy',
      endpoint: { host: '127.0.0.1', port: (app.address() as AddressInfo).port },
    }),
  );
  for (const [name, value] of Object.entries({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    ...db.environment,
    PREVIEW_STAGE: 'dev',
    PREVIEW_JWT_SECRET: 'proxy-metrics-test-secret-of-enough-length',
    POWERTOOLS_METRICS_DISABLED: 'false',
  })) {
    vi.stubEnv(name, value);
  }
});

afterAll(async () => {
  vi.unstubAllEnvs();
  vi.resetModules();
  await new Promise((resolve) => app?.close(resolve));
  await db?.close();
});

/** The EMF documents the handler writes while answering. */
async function emitted(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    stdout.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the proxy function', () => {
  it('publishes its latency and its overhead over the app as EMF, per request', async () => {
    vi.resetModules();
    const { useServiceOverrides } = await import('#handlers/services.js');
    useServiceOverrides({});
    const { handler } = await import('#handlers/http/proxy-preview.js');
    const event: APIGatewayProxyEvent = {
      ...restEvent,
      resource: '/api/generations/{generationId}/preview/proxy/{proxy+}',
      path: '/api/generations/g1/preview/proxy/health',
      httpMethod: 'GET',
      pathParameters: { generationId: 'g1', proxy: 'health' },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: null,
    };

    let result: unknown;
    const documents = await emitted(async () => {
      result = await handler(event, lambdaContext('proxy-preview'));
    });

    expect(result).toMatchObject({ statusCode: 200 });
    const byName = (name: string) => documents.find((d) => name in d);
    for (const name of ['ProxyLatencyMs', 'ProxyOverheadMs']) {
      expect(byName(name), name).toMatchObject({
        _aws: {
          CloudWatchMetrics: [
            {
              Namespace: 'PreviewService',
              Dimensions: [['service', 'stage']],
              Metrics: [{ Name: name, Unit: 'Milliseconds' }],
            },
          ],
        },
        stage: 'dev',
        service: 'preview-service',
      });
    }
    const latency = byName('ProxyLatencyMs')?.ProxyLatencyMs as number;
    const overhead = byName('ProxyOverheadMs')?.ProxyOverheadMs as number;
    expect(latency).toBeGreaterThan(0);
    expect(overhead).toBeGreaterThanOrEqual(0);
    expect(overhead).toBeLessThan(latency);
  });
});
