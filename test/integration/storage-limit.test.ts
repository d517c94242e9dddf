import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceSampler } from '#core/services/resource-sampler.js';
import type { ContainerStats, TaskDescription, TaskRunner } from '#core/task-runner.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { launcherOn, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

const gb = 1024 ** 3;

/** A runtime whose task is healthy and whose volumes hold what the test says (Docker measures it for real elsewhere). */
class StorageRuntime implements TaskRunner {
  readonly kind = 'docker' as const;
  readonly runWaitsForTask = true;
  storageUsedBytes = 0;

  async run() {
    return { taskId: 'task-1', endpoint: { host: '127.0.0.1', port: 9 }, appHealthy: true };
  }
  async stop() {}
  async describe(previewId: string): Promise<TaskDescription> {
    return { previewId, taskId: 'task-1', containers: [{ name: 'app', state: 'healthy', oomKilled: false }] };
  }
  async list() {
    return [];
  }
  async stats(): Promise<ContainerStats> {
    return {
      memoryUsedBytes: 64 * 1024 ** 2,
      memoryLimitBytes: 256 * 1024 ** 2,
      cpuCores: 0.1,
      networkRxBytes: 0,
      networkTxBytes: 0,
      storageUsedBytes: this.storageUsedBytes,
    };
  }
}

describe('the storage allowance through the preview service', () => {
  it('shows storage used in status, then stops the preview with reason storage_limit at 100%', async () => {
    const runtime = new StorageRuntime();
    const { service, stateMachine, previews, metrics, events } = previewServiceOn(db);
    const clock = { now: () => new Date() };
    const launcher = launcherOn({ stateMachine, previews }, { runner: runtime, clock });
    const sampler = new ResourceSampler({ previews, runner: runtime, metrics, clock, stopper: stateMachine });
    const identity = { userId: 'storage-user', tier: 'free' as const };
    const launched = await service.launch(identity, 'storage-gen', {});
    await launcher.start(launched.body.previewInstanceId);

    runtime.storageUsedBytes = 0.25 * gb;
    await sampler.sampleAll();
    const status = await service.status(identity, 'storage-gen');
    expect(status.resources.storage).toEqual({
      allocated: '1GB',
      allocatedBytes: 1024 ** 3,
      used: '256MB',
      usedBytes: 256 * 1024 ** 2,
      percent: 25,
    });

    runtime.storageUsedBytes = gb;
    await sampler.sampleAll();
    const stopped = await previews.getById(launched.body.previewInstanceId);
    expect(stopped).toMatchObject({
      status: 'stopped',
      statusReason: 'storage_limit: its storage is full: 1GB used of the 1GB the free tier allows',
    });
    const trail = await events.list(launched.body.previewInstanceId, { limit: 100 });
    expect(trail.items.map((event) => [event.type, event.reason])).toEqual(
      expect.arrayContaining([
        ['stopped', 'storage_limit: its storage is full: 1GB used of the 1GB the free tier allows'],
      ]),
    );
  });
});
