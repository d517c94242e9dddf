import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, errorBody } from '#core/errors.js';
import { statusOf } from '#handlers/error-answer.js';
import { parseGenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb.js';
import { previewServiceOn } from '../support/preview-service.js';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db.close();
});

const filesOf = (manifest: unknown) =>
  new Map([
    ['generation.json', Buffer.from(JSON.stringify(manifest))],
    ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
  ]);

/** `owned` belongs to alice, `unowned` names no owner, anything else is missing. */
const generations: GenerationStore = {
  async load(generationId) {
    if (generationId !== 'owned' && generationId !== 'unowned') return undefined;
    const manifest = {
      id: generationId,
      projectId: 'proj-1',
      dbType: 'none',
      entryPoint: 'uvicorn app.main:app',
      ...(generationId === 'owned' ? { ownerId: 'alice' } : {}),
    };
    return parseGenerationSource(generationId, filesOf(manifest));
  },
};

/** The error body a launch answers with, or `launched`. */
async function outcome(launch: Promise<unknown>): Promise<unknown> {
  try {
    await launch;
    return 'launched';
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { status: statusOf(error), ...errorBody(error) };
  }
}

const notFound = (generationId: string) => ({
  status: 404,
  error: { code: 'not_found', message: `Generation ${generationId} was not found.` },
});

describe('who may launch a generation', () => {
  it('only its owner; without an owner, nobody where unowned generations are not allowed (AWS)', async () => {
    const { service } = previewServiceOn(db, { generations, allowUnownedGenerations: false });
    const bob = { userId: 'own-bob', tier: 'free' as const };
    const alice = { userId: 'alice', tier: 'free' as const };
    expect(await outcome(service.launch(bob, 'owned', {}))).toEqual(notFound('owned'));
    expect(await outcome(service.launch(bob, 'elsewhere', {}))).toEqual(notFound('elsewhere'));
    expect(await outcome(service.launch(alice, 'unowned', {}))).toEqual(notFound('unowned'));
    expect(await outcome(service.launch(alice, 'owned', {}))).toBe('launched');
  });

  it('anyone may launch a generation without an owner where that is allowed (locally)', async () => {
    const { service } = previewServiceOn(db, { generations, allowUnownedGenerations: true });
    expect(await outcome(service.launch({ userId: 'own-carol', tier: 'free' }, 'unowned', {}))).toBe(
      'launched',
    );
    expect(await outcome(service.launch({ userId: 'own-carol', tier: 'free' }, 'owned', {}))).toEqual(
      notFound('owned'),
    );
  });

  it('reads ownerId from generation.json, and refuses one that is not a user id', () => {
    const source = (ownerId: unknown) =>
      parseGenerationSource(
        'g',
        filesOf({ id: 'g', projectId: 'p', dbType: 'none', entryPoint: 'x', ownerId }),
      );
    expect(source('user|42').generation.ownerId).toBe('user|42');
    expect(() => source('two words')).toThrow(
      expect.objectContaining({
        details: { fields: [expect.objectContaining({ field: 'generation.json.ownerId' })] },
      }),
    );
  });
});
