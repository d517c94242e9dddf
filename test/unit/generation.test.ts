import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { AppError } from '#core/errors.js';
import { generateDockerfile } from '#core/generated-dockerfile.js';
import { generationSchema, parseGenerationSource } from '#core/generation.js';
import { sourceHash } from '#core/task-runner.js';

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
    return (error as AppError).details?.fields;
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

  it('requires the commands its flags promise, and the Dockerfile it names inside the generation', () => {
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
    expect(
      detailsOf(() => parseGenerationSource('g1', filesOf({ ...minimal, dockerfile: 'Dockerfile' }, {}))),
    ).toEqual([
      { field: 'generation.json.dockerfile', message: 'names Dockerfile, which is not in the generation' },
    ]);
    expect(
      detailsOf(() =>
        parseGenerationSource('g1', filesOf({ ...minimal, dockerfile: 'docker/app.Dockerfile' }, {})),
      ),
    ).toEqual([
      {
        field: 'generation.json.dockerfile',
        message: 'names docker/app.Dockerfile, which is not in the generation',
      },
    ]);
    expect(
      detailsOf(() => parseGenerationSource('g1', filesOf({ ...minimal, dockerfile: '../Dockerfile' }))),
    ).toEqual([
      { field: 'generation.json.dockerfile', message: 'must be a relative path inside the generation' },
    ]);
  });

  it('uses its own Dockerfile when it has one, under the default name or the one it gives', () => {
    const own = parseGenerationSource('g1', filesOf(minimal));
    expect(own.generatedDockerfile).toBeUndefined();
    expect(own.files.get('Dockerfile')?.toString()).toBe('FROM python:3.11-slim');
    const named = parseGenerationSource(
      'g1',
      filesOf(
        { ...minimal, dockerfile: 'deploy/Dockerfile.preview' },
        { 'deploy/Dockerfile.preview': 'FROM x' },
      ),
    );
    expect(named.generatedDockerfile).toBeUndefined();
    expect([...named.files.keys()].sort()).toEqual(['deploy/Dockerfile.preview', 'generation.json']);
  });

  it('gets a Dockerfile generated when it has none and names none, built and hashed like a file', () => {
    const files = filesOf({ ...minimal, port: 8080 }, { 'requirements.txt': 'fastapi\n' });
    const source = parseGenerationSource('g1', files);
    expect(source.generation.dockerfile).toBe('Dockerfile');
    expect(source.generatedDockerfile).toBe(
      generateDockerfile({ entryPoint: 'uvicorn app.main:app', port: 8080 }, ['requirements.txt']),
    );
    expect(source.files.get('Dockerfile')?.toString()).toBe(source.generatedDockerfile);
    // The files read are left as they were.
    expect(files.has('Dockerfile')).toBe(false);
    // The image cache key covers the generated Dockerfile, so it follows the entry point and port.
    const otherPort = parseGenerationSource('g1', filesOf({ ...minimal, port: 9000 }, {}));
    expect(sourceHash(source.files)).not.toBe(sourceHash(files));
    expect(otherPort.files.get('Dockerfile')?.toString()).toContain('EXPOSE 9000');
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
      expect(source?.files.has(source.generation.dockerfile)).toBe(true);
    }
    expect(await store.load('no-such-generation')).toBeUndefined();
  });
});

describe('generateDockerfile', () => {
  it("follows the spec's template: base image, requirements, files, unprivileged user, all interfaces", () => {
    expect(
      generateDockerfile({ entryPoint: 'uvicorn app.main:app', port: 8000 }, [
        'requirements.txt',
        'app/main.py',
      ]),
    ).toBe(`# Generated from generation.json: the generation has no Dockerfile of its own.
FROM python:3.11-slim

# The app runs on a read-only root file system: it writes no .pyc files, and logs unbuffered.
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1

WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Servers that read their address from the environment listen on every interface, at the port.
ENV PORT="8000" \\
    HOST="0.0.0.0" \\
    UVICORN_HOST="0.0.0.0" \\
    UVICORN_PORT="8000" \\
    GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"

# nobody: the app never runs as root.
USER 65534:65534
EXPOSE 8000
CMD ["sh","-c","uvicorn app.main:app"]
`);
  });

  it('runs the entry point the way the service runs it: flags that keep it off the port rewritten', () => {
    const dockerfile = generateDockerfile(
      { entryPoint: 'uvicorn app.main:app --host 127.0.0.1 --port 5000', port: 8000 },
      [],
    );
    expect(dockerfile).toContain('CMD ["sh","-c","uvicorn app.main:app --host 0.0.0.0 --port 8000"]');
  });

  it('installs nothing when there is no requirements.txt at the top of the generation', () => {
    const dockerfile = generateDockerfile({ entryPoint: 'python -m app.main', port: 8000 }, [
      'app/requirements.txt',
    ]);
    expect(dockerfile).not.toMatch(/pip install|COPY requirements/);
    expect(dockerfile).toContain('# No requirements.txt: the packages of the base image serve the app.');
  });

  it('keeps any entry point one JSON instruction: quotes, variables, newlines stay as written', () => {
    const entryPoint =
      'alembic upgrade head && \\\n  gunicorn "app.main:create_app()" -k uvicorn.workers.UvicornWorker $EXTRA';
    const last = generateDockerfile({ entryPoint, port: 8000 }, []).trimEnd().split('\n').at(-1) ?? '';
    expect(last.startsWith('CMD ')).toBe(true);
    expect(JSON.parse(last.slice('CMD '.length))).toEqual(['sh', '-c', entryPoint]);
  });
});
