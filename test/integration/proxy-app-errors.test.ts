import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppHttpClient } from '#core/app-request.js';
import type { ServiceMetrics } from '#core/service-metrics.js';
import { PreviewProxy } from '#core/services/preview-proxy.js';
import type { TaskRunner } from '#core/task-runner.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { anyGeneration, launcherOn, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

/** A task that is healthy at once; the runtimes themselves are tested on their own. */
const healthyRuntime: TaskRunner = {
  kind: 'docker',
  runWaitsForTask: true,
  run: async () => ({ taskId: 'task-1', endpoint: { host: '127.0.0.1', port: 9 }, appHealthy: true }),
  stop: async () => undefined,
  describe: async (previewId) => ({
    previewId,
    taskId: 'task-1',
    containers: [{ name: 'app', state: 'healthy', oomKilled: false, startedAt: new Date().toISOString() }],
    endpoint: { host: '127.0.0.1', port: 9 },
  }),
  list: async () => [],
  stats: async () => undefined,
};

describe("the proxy counts the apps' 5xx apart from the service's", () => {
  it("one AppServerErrors per 5xx an app answers, none for its other answers or the service's own reads", async () => {
    const { service, stateMachine, previews } = previewServiceOn(db);
    let status = 200;
    const client: AppHttpClient = {
      send: async () => ({ statusCode: status, headers: {}, body: Buffer.from('x'), durationMs: 1 }),
    };
    const launcher = launcherOn({ stateMachine, previews }, { runner: healthyRuntime, client });
    const identity = { userId: 'proxy-5xx', tier: 'free' as const };
    const launched = await service.launch(identity, 'g', {});
    await launcher.start(launched.body.previewInstanceId);

    const counted: string[] = [];
    const serviceMetrics: ServiceMetrics = {
      count: (name) => counted.push(name),
      milliseconds: () => undefined,
      gauge: () => undefined,
    };
    const proxy = new PreviewProxy({
      service,
      generations: anyGeneration,
      client,
      requests: { record: async () => undefined },
      clock: { now: () => new Date() },
      serviceMetrics,
    });
    const request = { method: 'GET', path: 'items', headers: {} };

    for (const answer of [200, 404, 500, 503]) {
      status = answer;
      expect((await proxy.forward(identity, 'g', request)).statusCode).toBe(answer);
    }
    status = 502;
    await proxy.forward(identity, 'g', { ...request, metered: false });

    expect(counted).toEqual(['AppServerErrors', 'AppServerErrors']);
  });
});
