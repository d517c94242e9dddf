import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseRunnerKind, dockerEngineAnswers } from '#adapters/local/docker-available.js';

describe('chooseRunnerKind', () => {
  it('takes an explicit choice, whether or not Docker answers', () => {
    for (const kind of ['docker', 'process', 'ecs'] as const) {
      expect(chooseRunnerKind(kind, true)).toEqual({ kind });
      expect(chooseRunnerKind(kind, false)).toEqual({ kind });
    }
  });

  it('takes Docker when its engine answers', () => {
    expect(chooseRunnerKind(undefined, true)).toEqual({ kind: 'docker' });
  });

  it('without Docker and without PREVIEW_RUNNER, chooses nothing: processes only when asked for', () => {
    const choice = chooseRunnerKind(undefined, false, '/run/elsewhere.sock');
    expect(choice).toEqual({
      kind: undefined,
      notice:
        'No Docker engine answers at /run/elsewhere.sock, so previews cannot be launched. ' +
        'Start Docker (scripts/docker/ensure-docker-engine.sh) and restart the service, or set ' +
        'PREVIEW_RUNNER=process to run previews as local processes without isolation.',
    });
    expect(chooseRunnerKind(undefined, false).notice).toContain('/var/run/docker.sock');
    expect(chooseRunnerKind('process', false)).toEqual({ kind: 'process' });
  });
});

describe('dockerEngineAnswers', () => {
  let directory: string;
  const servers: Server[] = [];

  /** An HTTP server on a unix socket, as dockerd listens. */
  async function fakeEngine(name: string, handler: Parameters<typeof createServer>[1]): Promise<string> {
    const socketPath = join(directory, name);
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return socketPath;
  }

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'docker-available-'));
  });
  afterAll(async () => {
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await rm(directory, { recursive: true, force: true });
  });

  it('is true when GET /_ping answers OK', async () => {
    const requests: string[] = [];
    const socketPath = await fakeEngine('engine.sock', (request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.end('OK');
    });
    expect(await dockerEngineAnswers(socketPath)).toBe(true);
    expect(requests).toEqual(['GET /_ping']);
  });

  it('is false when the engine answers with an error', async () => {
    const socketPath = await fakeEngine('failing.sock', (_request, response) => {
      response.statusCode = 500;
      response.end('starting');
    });
    expect(await dockerEngineAnswers(socketPath)).toBe(false);
  });

  it('is false when nothing listens on the socket', async () => {
    expect(await dockerEngineAnswers(join(directory, 'missing.sock'))).toBe(false);
  });

  it('is false when the engine does not answer in time', async () => {
    const socketPath = await fakeEngine('silent.sock', () => {});
    // Without the timeout the call would wait as long as the silent engine: past the test's own timeout.
    expect(await dockerEngineAnswers(socketPath, 200)).toBe(false);
  });
});
