import { describe, expect, it } from 'vitest';
import { databaseContents, parsePostgresCount } from '#core/database-count.js';
import { previewRecord } from '../support/in-memory.js';

describe('parsePostgresCount', () => {
  it("reads psql's `<tables> <records>` line", () => {
    expect(parsePostgresCount('2 5\n')).toEqual({ tables: 2, records: 5 });
    expect(parsePostgresCount('0 0')).toEqual({ tables: 0, records: 0 });
  });

  it('reads nothing else: errors, empty output, numbers past what is exact', () => {
    for (const output of [
      '',
      'ERROR:  canceling statement due to statement timeout',
      '2',
      '-1 3',
      `1 ${'9'.repeat(20)}`,
    ]) {
      expect(parsePostgresCount(output), output).toBeUndefined();
    }
  });
});

describe('databaseContents', () => {
  const docker = { kind: 'docker', counts: true };

  it('shows the last count and when it was taken', () => {
    const record = previewRecord({
      previewId: 'p',
      dbType: 'postgresql',
      databaseCount: { tables: 2, records: 5, countedAt: '2026-01-01T12:00:00.000Z' },
    });
    expect(databaseContents(record, docker)).toEqual({
      tables: 2,
      records: 5,
      countedAt: '2026-01-01T12:00:00.000Z',
      notCountedReason: null,
    });
  });

  it('says why there is no count', () => {
    const reason = (dbType: 'none' | 'sqlite' | 'mongodb' | 'postgresql', counter?: typeof docker) =>
      databaseContents(previewRecord({ previewId: 'p', dbType }), counter);
    expect(reason('postgresql', docker)).toEqual({
      tables: null,
      records: null,
      countedAt: null,
      notCountedReason: 'not counted yet',
    });
    expect(reason('none', docker).notCountedReason).toBe('the preview has no database');
    expect(reason('mongodb', docker).notCountedReason).toBe('mongodb databases are not counted');
    expect(reason('sqlite', docker).notCountedReason).toBe('sqlite databases are not counted');
    expect(reason('postgresql', { kind: 'ecs', counts: false }).notCountedReason).toMatch(
      /^not measured on Fargate/,
    );
    expect(reason('postgresql', { kind: 'process', counts: false }).notCountedReason).toBe(
      'the process runtime runs no database of its own',
    );
  });
});
