import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

const system = { type: 'system' as const, id: 'test' };

describe('preview state transitions against a real DynamoDB API', () => {
  it('lets one of two racing transitions win and refuses the other: no lost update', async () => {
    const { service, stateMachine, previews } = previewServiceOn(db);
    const alice = { userId: 'alice-t', tier: 'pro' as const };
    await service.launch(alice, 'race', {});
    const read = await previews.get(alice.userId, 'race');
    if (!read) throw new Error('missing');
    const launching = await stateMachine.transition(read, 'launching', system);
    const running = await stateMachine.transition(launching, 'running', system);

    // Both writers read the same version; the health monitor says healthy, the user stops.
    const outcomes = await Promise.allSettled([
      stateMachine.transition(running, 'healthy', system, { healthyAt: new Date().toISOString() }),
      stateMachine.transition(running, 'stopping', system, { statusReason: 'stopped by user' }),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(AppError);
    expect(lost[0]?.reason).toMatchObject({ code: 'conflict' });

    const stored = await previews.get(alice.userId, 'race');
    const winner = (won[0] as PromiseFulfilledResult<{ status: string; version: number }>).value;
    expect(stored?.status).toBe(winner.status);
    expect(stored?.version).toBe(running.version + 1);
  });

  it('refuses a transition from a stale read even when the status would allow it', async () => {
    const { service, stateMachine, previews } = previewServiceOn(db);
    const bob = { userId: 'bob-t', tier: 'pro' as const };
    await service.launch(bob, 'stale', {});
    const first = await previews.get(bob.userId, 'stale');
    if (!first) throw new Error('missing');
    await stateMachine.transition(first, 'building', system, { statusReason: 'building image' });
    await expect(stateMachine.transition(first, 'launching', system)).rejects.toMatchObject({
      code: 'conflict',
    });
    expect((await previews.get(bob.userId, 'stale'))?.statusReason).toBe('building image');
  });

  it('finds a preview by id and records the audit trail in order, page by page', async () => {
    const { service, previews } = previewServiceOn(db);
    const carol = { userId: 'carol-t', tier: 'free' as const };
    const launched = await service.launch(carol, 'audit', {});
    const byId = await previews.getById(launched.body.previewInstanceId);
    expect(byId?.generationId).toBe('audit');
    await service.stop(carol, 'audit');
    await service.stop(carol, 'audit');

    const first = await service.listEvents(carol, 'audit', { limit: 2 });
    expect(first.events.map((e) => e.type)).toEqual(['launched', 'stopping']);
    expect(first.nextToken).toBeDefined();
    const second = await service.listEvents(carol, 'audit', { limit: 2, nextToken: first.nextToken });
    expect(second.events.map((e) => e.type)).toEqual(['stopped']);
    expect(first.events[0]?.actor).toEqual({ type: 'user', id: carol.userId });
    await expect(
      service.listEvents(carol, 'audit', { limit: 2, nextToken: 'garbage' }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('relaunches a stopped generation as a new preview with a new token', async () => {
    const { service } = previewServiceOn(db);
    const dan = { userId: 'dan-t', tier: 'free' as const };
    const first = await service.launch(dan, 'again', {});
    await service.stop(dan, 'again');
    const second = await service.launch(dan, 'again', {});
    expect(second.outcome).toBe('launched');
    expect(second.body.previewInstanceId).not.toBe(first.body.previewInstanceId);
    expect(second.body.previewToken).not.toBe(first.body.previewToken);
  });

  it('restarts a live preview on request', async () => {
    const { service } = previewServiceOn(db);
    const eve = { userId: 'eve-t', tier: 'free' as const };
    const first = await service.launch(eve, 'restart', {});
    const same = await service.launch(eve, 'restart', {});
    expect(same).toMatchObject({
      outcome: 'existing',
      body: { previewInstanceId: first.body.previewInstanceId },
    });
    expect(same.body.previewToken).toBeUndefined();
    const restarted = await service.launch(eve, 'restart', { restart: true });
    expect(restarted.outcome).toBe('launched');
    expect(restarted.body.previewInstanceId).not.toBe(first.body.previewInstanceId);
    expect((await service.listPreviews(eve)).quota.used).toBe(1);
  });
});
