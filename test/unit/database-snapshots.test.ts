import { describe, expect, it } from 'vitest';
import { snapshotKey, type SnapshotInputs } from '#core/database-snapshots.js';

const inputs: SnapshotInputs = {
  appImage: 'preview-app:abc',
  databaseImage: 'postgres:15',
  databaseImageId: 'sha256:1',
  migrationCommand: 'alembic upgrade head',
  seedCommand: 'python -m app.seed',
  environment: { APP_ENV: 'preview', FEATURE: 'on' },
};

describe('snapshotKey', () => {
  it('is the same for the same inputs, whatever the order of the environment', () => {
    expect(snapshotKey({ ...inputs, environment: { FEATURE: 'on', APP_ENV: 'preview' } })).toBe(
      snapshotKey(inputs),
    );
  });

  it('changes with every input that produces the data', () => {
    const changed: Partial<SnapshotInputs>[] = [
      { appImage: 'preview-app:abd' },
      { databaseImage: 'postgres:16' },
      { databaseImageId: 'sha256:2' },
      { migrationCommand: 'alembic upgrade +1' },
      { seedCommand: undefined },
      { environment: { APP_ENV: 'preview', FEATURE: 'off' } },
    ];
    const keys = new Set([snapshotKey(inputs), ...changed.map((c) => snapshotKey({ ...inputs, ...c }))]);
    expect(keys.size).toBe(changed.length + 1);
  });
});
