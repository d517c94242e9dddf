import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyWebsocketEventV2,
  CloudWatchLogsEvent,
  Context,
  ScheduledEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileLogStore } from '#adapters/local/file-log-store.js';
import type { TaskStateChangeEvent } from '#core/task-state-change.js';
import type { PreviewRuntime } from '#core/task-runner.js';
import type { ServiceOverrides } from '#handlers/services.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { lambdaContext } from '../support/lambda-context.js';

/**
 * Every kind of function, invoked the way Lambda invokes it: a new execution environment (fresh
 * modules), a real-shaped context, then a second, warm invocation. Each line it logs names the
 * invocation (request id, function) and says whether it was the cold start.
 */

const awsFixture = <T>(name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/aws/${name}.json`, import.meta.url), 'utf8')) as T;

const management = mockClient(ApiGatewayManagementApiClient);
let db: TestDynamoDb;
let directory: string;

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

/** The logger's JSON lines written while `run` runs (DEBUG and INFO go to stdout, WARN and ERROR to stderr). */
async function logLines(run: () => Promise<unknown>): Promise<LogLine[]> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await run();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return chunks
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line): line is LogLine => typeof line.level === 'string' && typeof line.message === 'string');
}

type Handler<E> = (event: E, context: Context) => Promise<unknown>;

/**
 * Loads the handler in a new execution environment, with these overrides, and invokes it twice;
 * `expectOutcome` checks each invocation's result (or error).
 */
async function coldThenWarm<E>(options: {
  functionName: string;
  overrides?: ServiceOverrides;
  load: () => Promise<{ handler: Handler<E> }>;
  event: E;
  expectOutcome: (outcome: PromiseSettledResult<unknown>) => void;
}) {
  vi.resetModules();
  const { useServiceOverrides } = await import('#handlers/services.js');
  useServiceOverrides(options.overrides ?? {});
  const { handler } = await options.load();
  const invocations = [lambdaContext(options.functionName), lambdaContext(options.functionName)];
  const lines: LogLine[][] = [];
  for (const context of invocations) {
    let outcome: PromiseSettledResult<unknown> | undefined;
    lines.push(
      await logLines(async () => {
        [outcome] = await Promise.allSettled([handler(options.event, context)]);
      }),
    );
    if (outcome) options.expectOutcome(outcome);
  }
  const [cold, warm] = invocations as [Context, Context];
  const [coldLines, warmLines] = lines as [LogLine[], LogLine[]];
  expectInvocation(coldLines, cold, true);
  expectInvocation(warmLines, warm, false);
  return coldLines;
}

function expectInvocation(lines: LogLine[], context: Context, coldStart: boolean): void {
  expect(lines.length, `lines logged by ${context.awsRequestId}`).toBeGreaterThan(0);
  for (const line of lines) {
    expect(line).toMatchObject({
      service: 'preview-service',
      function_name: context.functionName,
      function_arn: context.invokedFunctionArn,
      function_memory_size: context.memoryLimitInMB,
      function_request_id: context.awsRequestId,
      cold_start: coldStart,
    });
  }
}

const endpoint = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/dev';

/** Logs on files; no task belongs to any preview; the live stream posts through the mocked `@connections` API. */
const localLogs = (): ServiceOverrides['logs'] => ({
  store: new FileLogStore(directory),
  sources: { taskOrigin: async () => undefined },
  replay: { start: async () => undefined },
  exports: undefined,
  managementEndpoint: endpoint,
});

/** A runtime with nothing running in it. */
const emptyRuntime = (): PreviewRuntime => ({
  imageBuilder: {
    ensureImage: async () => {
      throw new Error('no image is built in this test');
    },
  },
  runner: {
    kind: 'ecs',
    runWaitsForTask: false,
    run: async () => {
      throw new Error('no task is run in this test');
    },
    stop: async () => undefined,
    describe: async () => undefined,
    list: async () => [],
    stats: async () => undefined,
  },
  starter: { start: async () => undefined },
});

beforeAll(async () => {
  db = await startTestDynamoDb();
  directory = await mkdtemp(join(tmpdir(), 'lambda-context-logs-'));
});

afterAll(async () => {
  management.restore();
  await db?.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  management.reset();
  for (const [name, value] of Object.entries({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    ...db.environment,
    PREVIEW_STAGE: 'dev',
    PREVIEW_JWT_SECRET: 'lambda-context-test-secret-of-enough-length',
    // What Lambda sets for an on-demand execution environment: the first invocation is the cold start.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_DISABLED: 'true',
  })) {
    vi.stubEnv(name, value);
  }
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('every function logs with its Lambda context', () => {
  it('a REST route: the failure it answers with 503 is logged with the request id', async () => {
    // The database cannot be reached: the route answers 503 and logs why.
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', 'http://127.0.0.1:1');
    const lines = await coldThenWarm<APIGatewayProxyEvent>({
      functionName: 'preview-service-dev-ListPreviews',
      load: () => import('#handlers/http/list-previews.js'),
      event: awsFixture('rest-api-proxy-event'),
      expectOutcome: (outcome) =>
        expect(outcome).toMatchObject({ status: 'fulfilled', value: { statusCode: 503 } }),
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'request failed',
        requestId: '5f3a2b1c-8d9e-4f0a-b1c2-d3e4f5a6b7c8',
      }),
    );
  });

  it('a WebSocket route: a message it cannot answer back is logged with the request id', async () => {
    management.on(PostToConnectionCommand).rejects(new Error('socket hang up'));
    const event: APIGatewayProxyWebsocketEventV2 = {
      requestContext: {
        routeKey: '$default',
        messageId: 'Gz3JkdY4DoECGxg=',
        eventType: 'MESSAGE',
        extendedRequestId: 'Gz3JkHOdDoEFnIw=',
        requestTime: '03/Dec/2026:05:12:41 +0000',
        messageDirection: 'IN',
        stage: 'dev',
        connectedAt: 1796274701000,
        requestTimeEpoch: 1796274761000,
        requestId: 'Gz3JkHOdDoEFnIw=',
        domainName: 'abc123def4.execute-api.eu-west-1.amazonaws.com',
        connectionId: 'Gz3JgctQjoECIyw=',
        apiId: 'abc123def4',
      },
      body: '{"action":"dance"}',
      isBase64Encoded: false,
    };
    const lines = await coldThenWarm({
      functionName: 'preview-service-dev-WebSocketDefault',
      overrides: { logs: localLogs() },
      load: () => import('#handlers/websocket/default.js'),
      event,
      expectOutcome: (outcome) =>
        expect(outcome).toMatchObject({ status: 'fulfilled', value: { statusCode: 200 } }),
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'WARN', message: 'live stream: sending failed' }),
    );
  });

  it('the log fan-out: a delivery of AWS’s sample event (no preview’s stream) is logged with the request id', async () => {
    const lines = await coldThenWarm<CloudWatchLogsEvent>({
      functionName: 'preview-service-dev-LogFanOut',
      overrides: { logs: localLogs() },
      load: () => import('#handlers/logs/fan-out.js'),
      event: awsFixture('cloudwatch-logs-subscription'),
      expectOutcome: (outcome) =>
        expect(outcome).toMatchObject({ status: 'fulfilled', value: { previewId: undefined, lines: 0 } }),
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'DEBUG', message: 'log stream of no known preview' }),
    );
  });

  it('the log fan-out: a bad payload is refused, logged with the request id, and nothing thrown', async () => {
    const lines = await coldThenWarm<CloudWatchLogsEvent>({
      functionName: 'preview-service-dev-LogFanOut',
      overrides: { logs: localLogs() },
      load: () => import('#handlers/logs/fan-out.js'),
      event: { awslogs: { data: Buffer.from('not gzip').toString('base64') } },
      expectOutcome: (outcome) => expect(outcome).toEqual({ status: 'fulfilled', value: undefined }),
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'refused a log subscription event that is not a CloudWatch Logs payload',
        problems: ['awslogs.data: Failed to decompress CloudWatch log data'],
      }),
    ]);
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it('task events: a task that is not a preview is ignored, logged with the request id', async () => {
    const lines = await coldThenWarm<TaskStateChangeEvent>({
      functionName: 'preview-service-dev-TaskStateChange',
      load: () => import('#handlers/events/task-state-change.js'),
      event: awsFixture('ecs-task-state-change'),
      expectOutcome: (outcome) => expect(outcome).toEqual({ status: 'fulfilled', value: undefined }),
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'ignoring a task state change that is not a preview task',
        id: '3317b2af-7005-947d-b652-f55e762e571a',
      }),
    ]);
  });

  it('a schedule: the run is logged with the request id', async () => {
    const lines = await coldThenWarm<ScheduledEvent>({
      functionName: 'preview-service-dev-SampleResources',
      overrides: { runtime: emptyRuntime() },
      load: () => import('#handlers/schedules/sample-resources.js'),
      event: awsFixture('scheduled-event'),
      expectOutcome: (outcome) => expect(outcome).toEqual({ status: 'fulfilled', value: { sampled: 0 } }),
    });
    expect(lines).toEqual([expect.objectContaining({ level: 'DEBUG', message: 'sampled resources' })]);
  });

  it('the task starter: the launch it starts is logged with the request id', async () => {
    const lines = await coldThenWarm({
      functionName: 'preview-service-dev-StartPreview',
      overrides: { runtime: emptyRuntime() },
      load: () => import('#handlers/tasks/start-preview.js'),
      event: { previewId: 'preview_0mwwx0c389de91667e5704613' },
      expectOutcome: (outcome) => expect(outcome).toEqual({ status: 'fulfilled', value: undefined }),
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'starting preview',
        previewId: 'preview_0mwwx0c389de91667e5704613',
      }),
    );
  });

  it('the authorizer: a token it cannot verify is logged with the request id', async () => {
    // RS256 tokens are checked against a key set; this one cannot be fetched.
    vi.stubEnv('PREVIEW_JWT_JWKS_URL', 'http://127.0.0.1:9/.well-known/jwks.json');
    vi.stubEnv('PREVIEW_JWT_ISSUER', 'https://auth.example.com/');
    vi.stubEnv('PREVIEW_JWT_AUDIENCE', 'preview-service');
    const rs256 = [
      Buffer.from('{"alg":"RS256","kid":"k1"}').toString('base64url'),
      Buffer.from('{"sub":"user-1","tier":"pro"}').toString('base64url'),
      'c2lnbmF0dXJl',
    ].join('.');
    const lines = await coldThenWarm({
      functionName: 'preview-service-dev-Authorizer',
      load: () => import('#handlers/authorizer.js'),
      event: {
        type: 'TOKEN' as const,
        authorizationToken: `Bearer ${rs256}`,
        methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/dev/GET/api/previews',
      },
      expectOutcome: (outcome) =>
        expect(outcome).toMatchObject({
          status: 'rejected',
          reason: { message: 'The token could not be verified.' },
        }),
    });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'the token could not be verified' }),
    ]);
  });
});
