import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.js';
import { isTerminal } from '#core/lifecycle.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { previewServiceOn, RecordingStarter } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

describe('quotas against a real DynamoDB API', () => {
  it('lets exactly the allowed number of 50 simultaneous launches through', async () => {
    const starter = new RecordingStarter();
    const { service, previews, quotas } = previewServiceOn(db, { starter });
    const alice = { userId: 'alice-50', tier: 'free' as const };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => service.launch(alice, `gen-${i}`, {})),
    );
    const launched = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(launched).toHaveLength(3);
    expect(refused).toHaveLength(47);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(AppError);
      expect(r.reason).toMatchObject({ code: 'quota_exceeded', details: { limit: 3, active: 3 } });
    }
    const stored = await previews.listByUser(alice.userId);
    expect(stored.filter((p) => !isTerminal(p.status))).toHaveLength(3);
    expect(stored).toHaveLength(3);
    expect((await quotas.live(alice.userId)).sort()).toEqual(stored.map((p) => p.previewId).sort());
    expect(starter.started.sort()).toEqual(stored.map((p) => p.previewId).sort());
  });

  it('frees a slot when a preview stops, and counts per user', async () => {
    const { service } = previewServiceOn(db);
    const bob = { userId: 'bob-q', tier: 'free' as const };
    for (const g of ['a', 'b', 'c']) await service.launch(bob, g, {});
    await expect(service.launch(bob, 'd', {})).rejects.toMatchObject({
      code: 'quota_exceeded',
      details: { limit: 3, active: 3 },
    });
    await expect(service.launch({ userId: 'carol-q', tier: 'free' }, 'd', {})).resolves.toMatchObject({
      outcome: 'launched',
    });
    await service.stop(bob, 'a');
    await expect(service.launch(bob, 'd', {})).resolves.toMatchObject({ outcome: 'launched' });
    expect((await service.listPreviews(bob)).quota).toEqual({
      tier: 'free',
      limit: 3,
      used: 3,
      remaining: 0,
    });
  });

  it('answers concurrent launches of one generation with one preview', async () => {
    const { service, previews } = previewServiceOn(db);
    const dave = { userId: 'dave-q', tier: 'pro' as const };
    const results = await Promise.all(Array.from({ length: 10 }, () => service.launch(dave, 'same', {})));
    const ids = new Set(results.map((r) => r.body.previewInstanceId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.outcome === 'launched')).toHaveLength(1);
    expect(results.filter((r) => r.body.previewToken !== undefined)).toHaveLength(1);
    expect(await previews.listByUser(dave.userId)).toHaveLength(1);
    expect((await service.listPreviews(dave)).quota.used).toBe(1);
  });

  it('reclaims a slot left behind by a launch that never wrote its record', async () => {
    const { service, quotas } = previewServiceOn(db);
    const erin = { userId: 'erin-q', tier: 'free' as const };
    const abandoned = `preview_${(Date.now() - 5 * 60_000).toString(36).padStart(9, '0')}0123456789abcdef`;
    await quotas.reserve(erin.userId, abandoned, 3);
    for (const g of ['a', 'b']) await service.launch(erin, g, {});
    await expect(service.launch(erin, 'c', {})).resolves.toMatchObject({ outcome: 'launched' });
    expect(await quotas.live(erin.userId)).not.toContain(abandoned);
  });

  it("leaves the generation's stopped preview as it was when a relaunch is refused", async () => {
    const { service, previews } = previewServiceOn(db);
    const fay = { userId: 'fay-q', tier: 'free' as const };
    const first = await service.launch(fay, 'kept', {});
    await service.stop(fay, 'kept');
    const stopped = await previews.get(fay.userId, 'kept');
    const eventsBefore = await service.listEvents(fay, 'kept', { limit: 50 });
    for (const g of ['k1', 'k2', 'k3']) await service.launch(fay, g, {});

    await expect(service.launch(fay, 'kept', {})).rejects.toMatchObject({ code: 'quota_exceeded' });
    await expect(service.launch(fay, 'kept', { resourceTier: 'pro' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(service.launch(fay, 'kept', { generationId: 'other' })).rejects.toMatchObject({
      code: 'validation_failed',
    });

    expect(await previews.get(fay.userId, 'kept')).toEqual(stopped);
    const status = await service.status(fay, 'kept');
    expect(status).toMatchObject({ previewInstanceId: first.body.previewInstanceId, status: 'stopped' });
    expect(await service.listEvents(fay, 'kept', { limit: 50 })).toEqual(eventsBefore);
    expect(eventsBefore.events.map((e) => e.type)).toEqual(['launched', 'stopping', 'stopped']);
  });
});
