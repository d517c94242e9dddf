import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreviewRuntime, TaskRunner } from '#core/task-runner.js';
import { LocalLaunchStarter } from '#local/local-launch-starter.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { until } from '../support/local-service.js';
import { anyGeneration } from '../support/preview-service.js';

const secret = 'proxy-root-secret-proxy-root-secret';
let runtime: LocalRuntime;
let app: Server;
let token: string;
const starter = new LocalLaunchStarter();

/** The app: answers every request with the path and method it received. */
async function startApp(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A runtime whose task is the app above, healthy as soon as it is asked for. */
function runtimeFor(port: number): PreviewRuntime {
  const endpoint = { host: '127.0.0.1', port };
  const runner: TaskRunner = {
    kind: 'process',
    runWaitsForTask: true,
    run: async () => ({ taskId: 'task-1', endpoint, appHealthy: true }),
    stop: async () => undefined,
    describe: async (previewId) => ({
      previewId,
      taskId: 'task-1',
      containers: [{ name: 'app', state: 'healthy', oomKilled: false, startedAt: new Date().toISOString() }],
      endpoint,
    }),
    list: async () => [],
    stats: async () => undefined,
  };
  return {
    imageBuilder: { ensureImage: async () => ({ imageRef: 'app:local', cached: true }) },
    runner,
    starter,
  };
}

beforeAll(async () => {
  process.env.PREVIEW_JWT_SECRET = secret;
  const started = await startApp();
  app = started.server;
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { runtime: runtimeFor(started.port), generations: anyGeneration },
  });
  token = await mintToken(secret, 'proxy-root-user', 'free');
});

afterAll(async () => {
  await starter.drain();
  await runtime?.close();
  await new Promise((resolve) => app?.close(resolve));
});

const call = (method: string, path: string) =>
  fetch(`${runtime.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

describe('the proxy', () => {
  it("takes the preview's proxy path itself, with or without a slash, to the app's root", async () => {
    expect((await call('POST', '/api/generations/root-app/preview/launch')).status).toBe(202);
    const status = await until(
      30,
      async () =>
        (await (await call('GET', '/api/generations/root-app/preview/status')).json()) as { status?: string },
      (body) => body.status === 'healthy',
    );
    expect(status).toMatchObject({ status: 'healthy' });

    for (const [method, path, appPath] of [
      ['GET', '/api/generations/root-app/preview/proxy', '/'],
      ['GET', '/api/generations/root-app/preview/proxy/', '/'],
      ['POST', '/api/generations/root-app/preview/proxy?page=2', '/?page=2'],
      ['GET', '/api/generations/root-app/preview/proxy/items/1', '/items/1'],
    ] as const) {
      const response = await call(method, path);
      expect(response.status, path).toBe(200);
      expect(await response.json(), path).toEqual({ method, path: appPath });
    }
    expect((await call('DELETE', '/api/generations/root-app/preview')).status).toBe(200);
  });
});
