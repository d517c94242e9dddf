import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';
import type { PreviewTaskDefinition } from '#core/task-definition.js';
import { taskFailed, type TaskRunner } from '#core/task-runner.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { launcherOn, previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

/** A generation with a PostgreSQL database and a secret of its own. */
const postgresGeneration: GenerationStore = {
  async load(generationId) {
    const manifest = {
      id: generationId,
      projectId: 'proj-1',
      dbType: 'postgresql',
      entryPoint: 'uvicorn app.main:app',
      env: { STRIPE_KEY: 'sk_live_the-stripe-key-value' },
    };
    return parseGenerationSource(
      generationId,
      new Map([
        ['generation.json', Buffer.from(JSON.stringify(manifest))],
        ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
      ]),
    );
  },
};

/** A runtime whose app prints its secrets, bare, and dies: what a careless app does. */
class LeakyRuntime implements Pick<TaskRunner, 'run' | 'stop' | 'describe'> {
  password = '';
  async run(task: PreviewTaskDefinition): Promise<never> {
    const url = task.containers.find((c) => c.name === 'app')?.environment.DATABASE_URL ?? '';
    this.password = decodeURIComponent(/:([^:@/]+)@/.exec(url)?.[1] ?? '');
    throw taskFailed({
      step: 'app',
      reason: 'exit_nonzero',
      exitCode: 1,
      lastLines: [`db password is ${this.password}`, 'stripe sk_live_the-stripe-key-value'],
    });
  }
  async stop() {}
  async describe() {
    return undefined;
  }
}

describe('a failed launch', () => {
  it("stores and shows its last lines without the task's secrets", async () => {
    const runtime = new LeakyRuntime();
    const { service, stateMachine, previews } = previewServiceOn(db);
    const launcher = launcherOn(
      { stateMachine, previews },
      {
        runner: runtime as unknown as TaskRunner,
        generations: postgresGeneration,
        client: {
          send: async () => {
            throw new Error('a task that failed to start is never asked');
          },
        },
      },
    );
    const launched = await service.launch({ userId: 'leaky', tier: 'free' }, 'g-leaky', {
      databaseType: 'postgresql',
    });
    await launcher.start(launched.body.previewInstanceId);
    const stored = await previews.getById(launched.body.previewInstanceId);
    expect(runtime.password.length).toBeGreaterThan(8);
    expect(stored?.status).toBe('failed');
    expect(stored?.failure?.lastLines).toEqual(['db password is ***', 'stripe ***']);
  });
});
