import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '../../functions/adapters/local/directory-generation-store.js';
import { AppError } from '../../functions/core/errors.js';
import { generationSchema, parseGenerationSource } from '../../functions/core/generation.js';

const minimal = { id: 'g1', projectId: 'p1', dbType: 'none', entryPoint: 'uvicorn app.main:app' };

const filesOf = (
  manifest: unknown,
  extra: Record<string, string> = { Dockerfile: 'FROM python:3.11-slim' },
) =>
  new Map(
    Object.entries({ 'generation.json': JSON.stringify(manifest), ...extra }).map(([k, v]) => [
      k,
      Buffer.from(v),
    ]),
  );

function detailsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).details;
  }
  throw new Error('expected an AppError');
}

describe('generation.json', () => {
  it('fills the documented defaults', () => {
    expect(generationSchema.parse(minimal)).toMatchObject({
      port: 8000,
      healthCheckEndpoint: '/health',
      healthCheckInterval: 30,
      dockerfile: 'Dockerfile',
      openapiPath: '/openapi.json',
      env: {},
      requiresMigrations: false,
      seedDataIncluded: false,
    });
  });

  it('rejects unknown fields by name', () => {
    expect(detailsOf(() => parseGenerationSource('g1', filesOf({ ...minimal, colour: 'blue' })))).toEqual([
      { field: 'generation.json', message: 'Unknown field(s): colour.' },
    ]);
  });

  it('requires the commands its flags promise, and a Dockerfile inside the generation', () => {
    expect(
      detailsOf(() =>
        parseGenerationSource(
          'g1',
          filesOf({ ...minimal, requiresMigrations: true, seedDataIncluded: true }),
        ),
      ),
    ).toEqual([
      { field: 'generation.json.migrationCommand', message: 'is required when requiresMigrations is true' },
      { field: 'generation.json.seedCommand', message: 'is required when seedDataIncluded is true' },
    ]);
    expect(detailsOf(() => parseGenerationSource('g1', filesOf(minimal, {})))).toEqual([
      { field: 'generation.json.dockerfile', message: 'names Dockerfile, which is not in the generation' },
    ]);
    expect(
      detailsOf(() => parseGenerationSource('g1', filesOf({ ...minimal, dockerfile: '../Dockerfile' }))),
    ).toEqual([
      { field: 'generation.json.dockerfile', message: 'must be a relative path inside the generation' },
    ]);
  });

  it('must be named like its folder', () => {
    expect(detailsOf(() => parseGenerationSource('g2', filesOf(minimal)))).toEqual([
      { field: 'generation.json.id', message: 'must be the folder name (g2)' },
    ]);
  });

  it('is valid in every example generation', async () => {
    const store = new DirectoryGenerationStore('examples/generations');
    const ids = readdirSync('examples/generations');
    expect(ids).toEqual(expect.arrayContaining(['hello-api', 'todo-postgres']));
    for (const id of ids) {
      const source = await store.load(id);
      expect(source?.generation.id).toBe(id);
      expect(source?.files.has('Dockerfile')).toBe(true);
    }
    expect(await store.load('no-such-generation')).toBeUndefined();
  });
});
