import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compareResponseSchema, metricsResponseSchema } from '#core/api-schemas.js';
import { leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, until, type TestService } from '../support/local-service.js';

const base = 'todo-postgres';
const other = 'todo-postgres-v2';
let service: TestService;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  service = await startTestService({ tier: 'pro', env: { PREVIEW_RESOURCE_SAMPLE_SECONDS: '1' } });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
});

const api: TestService['api'] = (...args) => service.api(...args);

/** Polls `read` until it yields something, for at most `seconds`. */
async function eventually<T>(read: () => Promise<T | undefined>, seconds = 15): Promise<T> {
  const value = await until(seconds, read, (v) => v !== undefined);
  if (value === undefined) throw new Error('gave up waiting');
  return value;
}

const compare = (from: string, to: string) => api('GET', `/api/generations/${from}/preview/compare/${to}`);
const send = (generationId: string, method: string, path: string) =>
  api('POST', `/api/generations/${generationId}/preview/request`, { method, path });

/** Launches the versions a test needs; each test stops them after it, so none depends on another. */
async function launchHealthy(...generationIds: string[]): Promise<string[]> {
  const launches = await Promise.all(generationIds.map((generationId) => service.launch(generationId)));
  for (const launch of launches)
    expect(launch).toMatchObject({ status: 202, settled: { status: 'healthy' } });
  return launches.map((launch) => launch.json.previewInstanceId as string);
}

/** Three answered requests and one the app answers 404 (a client error). */
async function trafficTo(generationId: string, { notFound }: { notFound: boolean }) {
  for (let i = 0; i < 3; i++) expect((await send(generationId, 'GET', '/todos')).json.statusCode).toBe(200);
  if (notFound) expect((await send(generationId, 'GET', '/todos/999999')).json.statusCode).toBe(404);
}

afterEach(async () => {
  if (skipWithoutDocker) return;
  for (const generationId of [base, other]) await api('DELETE', `/api/generations/${generationId}/preview`);
});

describe.skipIf(skipWithoutDocker)('comparing two versions running on the local Docker engine', () => {
  it('reports exactly what v2 changed, and performance once both have measured requests', async () => {
    await launchHealthy(base, other);

    const notRunning = await compare(base, 'hello-api');
    expect(notRunning.status).toBe(409);
    expect(notRunning.json.error.message).toMatch(/hello-api has no preview \(launch it\)/);
    expect(notRunning.json.error.details).toEqual({
      notServing: [{ generationId: 'hello-api', status: null }],
    });
    expect((await compare(base, 'no-such-generation')).status).toBe(404);

    const unmeasured = await compare(base, other);
    expect(unmeasured.status).toBe(200);
    expect(unmeasured.json.comparison.performance).toEqual({
      available: false,
      reason: expect.stringContaining(`the preview of ${base} or the preview of ${other}`),
    });

    await trafficTo(base, { notFound: true });
    await trafficTo(other, { notFound: false });

    // Request counts are written at most a second after the requests.
    const { status, json } = await until(
      30,
      () => compare(base, other),
      (r) => r.json.comparison?.performance?.other?.requestCount === 3,
    );
    expect(status).toBe(200);
    expect(compareResponseSchema.parse(json)).toBeTruthy();
    expect(json.base).toMatchObject({ generationId: base, version: '1', apiVersion: '1.0.0' });
    expect(json.other).toMatchObject({ generationId: other, version: '2', apiVersion: '2.0.0' });
    expect(json.comparison.endpoints).toEqual({
      added: [{ method: 'PUT', path: '/todos/{todo_id}' }],
      removed: [],
      modified: [
        { method: 'GET', path: '/todos', changes: ['responses'], models: ['TodoOut'] },
        {
          method: 'POST',
          path: '/todos',
          changes: ['requestBody', 'responses'],
          models: ['TodoCreate', 'TodoOut'],
        },
        { method: 'GET', path: '/todos/{todo_id}', changes: ['responses'], models: ['TodoOut'] },
      ],
    });
    const priority = (required: boolean) => ({
      fields: { added: [{ name: 'priority', type: 'integer', required }], removed: [], changed: [] },
      definitionChanged: false,
    });
    expect(json.comparison.models).toEqual({
      added: ['TodoUpdate'],
      removed: [],
      modified: [
        { name: 'TodoCreate', ...priority(false) },
        { name: 'TodoOut', ...priority(true) },
      ],
    });
    // Reading the documents to compare is not the user's traffic: only the requests sent count.
    expect(json.comparison.performance).toMatchObject({
      available: true,
      avgResponseTimeChange: expect.stringMatching(/^([+-]\d+(\.\d)?|0)%$/),
      errorRateChange: '0%',
      base: { requestCount: 4, errorCount: 0, errorRate: '0%' },
      other: { requestCount: 3, errorCount: 0, errorRate: '0%' },
    });
  }, 180_000);

  it('serves the time series of a preview, and refuses a bad window with field details', async () => {
    await launchHealthy(base);
    await trafficTo(base, { notFound: true });
    const path = `/api/generations/${base}/preview/metrics`;
    // Request counts are written at most a second after the requests, resources every second.
    const requestsIn = (json: { metrics: { responseTime: { requests: number }[] } }) =>
      json.metrics.responseTime.reduce((sum, p) => sum + p.requests, 0);
    const series = await eventually(async () => {
      const { json } = await api('GET', path);
      return json.metrics.memory.length > 0 && requestsIn(json) >= 4 ? json : undefined;
    });
    expect(metricsResponseSchema.parse(series)).toBeTruthy();
    expect(series.period).toBe(60);
    expect(series.metrics.memory[0].value).toBeGreaterThan(10);
    expect(series.metrics.cpu.length).toBeGreaterThan(0);
    expect(requestsIn(series)).toBe(4);
    expect(series.metrics.responseTime[0]).toEqual({
      timestamp: expect.stringMatching(/:00Z$/),
      value: expect.any(Number),
      p95: expect.any(Number),
      p99: expect.any(Number),
      requests: expect.any(Number),
    });
    expect(series.metrics.errors).toEqual([]);
    expect(series.metrics.clientErrors.reduce((sum: number, p: { count: number }) => sum + p.count, 0)).toBe(
      1,
    );

    const fieldsOf = async (query: string) => {
      const { status, json } = await api('GET', `${path}?${query}`);
      expect(status).toBe(400);
      return json.error.details.fields.map((d: { field: string }) => d.field);
    };
    expect(await fieldsOf('period=90')).toEqual(['query.period']);
    expect(await fieldsOf('start=2025-10-20T12:00:00Z&end=2025-10-20T11:00:00Z')).toEqual(['query.end']);
    expect(await fieldsOf('start=2025-10-18T12:00:00Z&end=2025-10-20T12:00:00Z')).toEqual(['query.start']);
  }, 180_000);

  it('leaves nothing behind once both previews are deleted', async () => {
    const ids = await launchHealthy(base, other);
    for (const generationId of [base, other]) {
      expect((await api('DELETE', `/api/generations/${generationId}/preview`)).json.status).toBe('stopped');
    }
    for (const id of ids) expect(await leftovers(id)).toEqual([]);
  }, 180_000);
});
