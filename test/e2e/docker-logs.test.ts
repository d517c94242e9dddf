import { randomUUID } from 'node:crypto';
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';
import { docker, leftovers, skipWithoutDocker } from '../support/docker.js';
import { LiveClient, type Received } from '../support/live-client.js';

const secret = 'docker-logs-secret-docker-logs-secret';
const generationId = 'log-demo';
let runtime: LocalRuntime;
let token: string;
let generations: string;
let preview: { previewId: string; previewToken: string; wsUrl: string };
let builtImage: string | undefined;
const clients: LiveClient[] = [];

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const raw = Buffer.from(await response.arrayBuffer());
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked field by field
  let json: any;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: response.status, raw, json };
}

/** Sends a request to the app through the service's proxy. */
const app = (method: string, path: string, body?: unknown) =>
  api('POST', `/api/generations/${generationId}/preview/request`, {
    method,
    path,
    ...(body ? { body } : {}),
  });

async function connect(query = ''): Promise<LiveClient> {
  const client = await LiveClient.connect(`${preview.wsUrl}?token=${preview.previewToken}${query}`);
  clients.push(client);
  return client;
}

const messages = (received: readonly Received[]) =>
  received.filter((m) => m.type === 'log').map((m) => m.message);

beforeAll(async () => {
  if (skipWithoutDocker) return;
  // A copy of the example no image was built from yet: its build output is part of the log.
  generations = await mkdtemp(join(tmpdir(), 'docker-logs-'));
  await cp(join('examples', 'generations', generationId), join(generations, generationId), {
    recursive: true,
  });
  await appendFile(join(generations, generationId, 'app', 'main.py'), `\n# test build ${randomUUID()}\n`);
  process.env.PREVIEW_JWT_SECRET = secret;
  process.env.PREVIEW_RUNNER = 'docker';
  process.env.PREVIEW_GENERATIONS_DIR = generations;
  runtime = await startLocalRuntime({ port: 0, dataDir: undefined });
  token = await mintToken(secret, `logs-${Date.now().toString(36)}`, 'pro');
  // With a database of its own, so that the app has a password to give away.
  const launched = await api('POST', `/api/generations/${generationId}/preview/launch?wait=25`, {
    databaseType: 'postgresql',
  });
  expect(launched.status).toBe(202);
  preview = { ...launched.json, previewId: launched.json.previewInstanceId };
  let status = '';
  for (let i = 0; i < 240 && status !== 'healthy'; i += 1) {
    const { json } = await api('GET', `/api/generations/${generationId}/preview/status`);
    status = json.status as string;
    if (status === 'failed') throw new Error(`log-demo failed: ${JSON.stringify(json.failure)}`);
    if (status !== 'healthy') await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Every test reads this preview's output: none starts without it.
  expect(status).toBe('healthy');
  const events = await api('GET', `/api/generations/${generationId}/preview/events`);
  builtImage = events.json.events.find((e: { type: string }) => e.type === 'built')?.data?.imageRef;
}, 180_000);

afterAll(async () => {
  if (skipWithoutDocker) return;
  await Promise.all(clients.map((c) => c.close()));
  if (runtime) await api('DELETE', `/api/generations/${generationId}/preview`);
  await runtime?.close();
  if (preview) expect(await leftovers(preview.previewId)).toEqual([]);
  if (builtImage) await docker.getImage(builtImage).remove({ force: true });
  if (generations) await rm(generations, { recursive: true, force: true });
});

describe.skipIf(skipWithoutDocker)('logs of a live preview on Docker, end to end', () => {
  it("streams the app's lines, in order and whole, to a WebSocket client connected with the preview token", async () => {
    const client = await connect('&buffer=1000');
    // The replay holds what the app printed while it started.
    await client.until(
      (all) => messages(all).some((m) => /Application startup complete/.test(String(m))),
      10_000,
    );
    const from = client.received.length;
    const burst = await app('POST', '/emit', { count: 200, rate: 1000, message: 'tick' });
    expect(burst.json.statusCode).toBe(202);
    await client.until(
      (all) => messages(all.slice(from)).filter((m) => /^tick /.test(String(m))).length === 200,
      10_000,
    );
    const ticks = client.received.slice(from).filter((m) => /^tick /.test(String(m.message)));
    expect(ticks.map((m) => m.message)).toEqual(Array.from({ length: 200 }, (_, n) => `tick ${n}`));
    // How fast lines arrive is the benchmark's to measure (`npm run bench`), not a test's.
    expect(client.received.slice(from).find((m) => m.message === 'POST /emit 202')).toMatchObject({
      level: 'INFO',
      source: 'request',
      metadata: { method: 'POST', path: '/emit', statusCode: 202 },
    });
  });

  it('sends a client connected with level=ERROR only the errors: the 500, its traceback', async () => {
    const errors = await connect('&level=ERROR');
    const all = await connect();
    await app('GET', '/health');
    const boom = await app('GET', '/boom');
    expect(boom.json.statusCode).toBe(500);
    await all.until(
      (received) => messages(received).some((m) => /RuntimeError: boom/.test(String(m))),
      10_000,
    );
    await errors.until(
      (received) => messages(received).some((m) => /RuntimeError: boom/.test(String(m))),
      10_000,
    );
    expect(errors.logs.length).toBeGreaterThan(2);
    expect(errors.logs.every((m) => m.level === 'ERROR')).toBe(true);
    expect(messages(errors.received)).toEqual(
      expect.arrayContaining(['GET /boom 500', 'Traceback (most recent call last):']),
    );
    expect(messages(all.received)).toContain('GET /health 200');
    expect(messages(errors.received)).not.toContain('GET /health 200');
  });

  it('refuses a wrong token at the handshake', async () => {
    await expect(LiveClient.connect(`${preview.wsUrl}?token=pvt_wrong`)).rejects.toMatchObject({
      status: 401,
    });
  });

  it('resumes after the last cursor seen: every line exactly once while the app keeps printing', async () => {
    const first = await connect();
    await app('POST', '/emit', { count: 600, rate: 400, message: 'resume' });
    await first.until((all) => messages(all).filter((m) => /^resume /.test(String(m))).length >= 150, 10_000);
    await first.close();
    const last = first.logs.at(-1)?.cursor as string;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await connect(`&after=${last}`);
    await second.until((all) => messages(all).includes('resume 599'), 10_000);
    const seen = [...messages(first.received), ...messages(second.received)].filter((m) =>
      /^resume /.test(String(m)),
    );
    expect(seen).toEqual(Array.from({ length: 600 }, (_, n) => `resume ${n}`));
  });

  it('keeps the build output, and hides the app database password from clients, queries and exports', async () => {
    const builds = await api('GET', `/api/generations/${generationId}/preview/logs?source=build&limit=1000`);
    expect(builds.json.logs.length).toBeGreaterThan(0);
    expect(builds.json.logs.every((l: Received) => l.source === 'build')).toBe(true);

    const [app_] = await docker.listContainers({
      filters: { label: [`preview.id=${preview.previewId}`, 'preview.container=app'] },
    });
    const environment = (await docker.getContainer(app_!.Id).inspect()).Config.Env;
    const databaseUrl = environment.find((v) => v.startsWith('DATABASE_URL='))!.slice('DATABASE_URL='.length);
    const password = new URL(databaseUrl).password;
    expect(password.length).toBeGreaterThan(10);

    const client = await connect();
    await app('POST', '/print-database-url');
    await client.until((all) => messages(all).includes('settings'), 10_000);
    expect(messages(client.received)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^connecting to postgresql:\/\/\w+:\*\*\*@/),
        'the database password is ***',
      ]),
    );
    const path = `/api/generations/${generationId}/preview/logs`;
    const answers = [
      JSON.stringify(client.received),
      (await api('GET', `${path}?search=database&limit=1000`)).raw.toString('utf8'),
      (await api('GET', `${path}/export?format=json`)).raw.toString('utf8'),
      (await api('GET', `${path}/export?format=csv`)).raw.toString('utf8'),
      gunzipSync((await api('GET', `${path}/export?format=gzip`)).raw).toString('utf8'),
    ];
    for (const answer of answers) {
      expect(answer).toContain('the database password is ***');
      expect(answer).not.toContain(password);
    }
  });
});
