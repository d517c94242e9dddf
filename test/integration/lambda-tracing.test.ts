import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDynamoDb } from '../support/dynamodb.js';
import { lambdaContext } from '../support/lambda-context.js';

/**
 * A REST function traced as in Lambda: the X-Ray SDK sends what it records to a daemon over UDP, here
 * a socket of the test. This file runs in a process of its own; the service's modules (and with them
 * the SDK) are imported only once Lambda's variables are set.
 */

interface Subsegment {
  readonly id: string;
  readonly name: string;
  readonly parent_id?: string;
  readonly trace_id: string;
  readonly annotations?: Record<string, unknown>;
  readonly metadata?: Record<string, Record<string, unknown>>;
  readonly aws?: { operation?: string; table_name?: string };
  readonly namespace?: string;
}

const traceId = '1-6750f1a2-3c6d7e8f9a0b1c2d3e4f5a6b';
const received: Subsegment[] = [];
let daemon: Socket;
let db: TestDynamoDb;

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    // Each datagram is a header line, then the document.
    const [, document] = message.toString('utf8').split('\n');
    if (document) received.push(JSON.parse(document) as Subsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // What Lambda sets for a traced function.
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: 'index.handler',
    _X_AMZN_TRACE_ID: `Root=${traceId};Parent=53995c3f42cd8ad8;Sampled=1`,
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
  });
  const { startTestDynamoDb } = await import('../support/dynamodb.js');
  db = await startTestDynamoDb();
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, ...db.environment });
});

afterAll(async () => {
  daemon?.close();
  await db?.close();
});

it('records the invocation as a subsegment with the cold start, and each DynamoDB call in it; never the response', async () => {
  const { handler } = await import('#handlers/http/list-previews.js');
  const event = JSON.parse(
    readFileSync(new URL('../fixtures/aws/rest-api-proxy-event.json', import.meta.url), 'utf8'),
  ) as APIGatewayProxyEvent;

  const result = await handler(event, lambdaContext('preview-service-dev-ListPreviews'));
  expect(result.statusCode).toBe(200);

  await expect
    .poll(() => received.find((s) => s.name === '## index.handler'), { timeout: 5000 })
    .toBeDefined();
  const invocation = received.find((s) => s.name === '## index.handler');
  expect(invocation).toMatchObject({
    trace_id: traceId,
    annotations: { ColdStart: true, Service: 'preview-service' },
  });
  expect(JSON.stringify(invocation?.metadata ?? {})).not.toContain('response');
  const calls = received.filter((s) => s.name === 'DynamoDB');
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call).toMatchObject({ trace_id: traceId, parent_id: invocation?.id, namespace: 'aws' });
    expect(Object.values(db.tables)).toContain(call.aws?.table_name);
  }
});
