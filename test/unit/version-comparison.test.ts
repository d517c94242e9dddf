import { describe, expect, it } from 'vitest';
import { bucketsOf, type RequestSample } from '#core/metrics.js';
import type { PreviewRecord } from '#core/preview.js';
import { PreviewProxy } from '#core/services/preview-proxy.js';
import { VersionComparison } from '#core/services/version-comparison.js';
import { FakeApp, generationsOf, json } from '../support/fake-app.js';
import { ManualClock, previewRecord } from '../support/in-memory.js';
import { previewServiceInMemory } from '../support/preview-service.js';

const identity = { userId: 'user-1', tier: 'pro' as const };

const v1Api = {
  openapi: '3.1.0',
  info: { title: 'Todos', version: '1.0.0' },
  paths: { '/todos': { get: {} }, '/legacy': { get: {} } },
};
const v2Api = {
  openapi: '3.1.0',
  info: { title: 'Todos', version: '2.0.0' },
  paths: { '/todos': { get: {}, post: {} } },
};

/** Two versions of a generation; each preview's app serves its own OpenAPI document at a port of its own. */
function world() {
  const clock = new ManualClock();
  const generations = generationsOf({ v1: { version: '1' }, v2: { version: '2' }, v3: {} });
  const { service, previews, metrics } = previewServiceInMemory({ clock, generations });
  const app = new FakeApp();
  const documents = new Map<number, unknown>([
    [41001, v1Api],
    [41002, v2Api],
  ]);
  app.send = async (endpoint, request) => {
    app.requests.push({ endpoint, request });
    return json(200, documents.get(endpoint.port));
  };
  const recorded: string[] = [];
  const proxy = new PreviewProxy({
    service,
    generations,
    client: app,
    requests: {
      record: async (previewId: string) => {
        recorded.push(previewId);
      },
    },
    clock,
  });
  const comparison = new VersionComparison({ previews, generations, proxy, metrics });
  const preview = (generationId: string, port: number, fields: Partial<PreviewRecord> = {}) =>
    previews.put(
      previewRecord({
        previewId: `p-${generationId}`,
        generationId,
        status: 'healthy',
        endpoint: { host: '127.0.0.1', port },
        ...fields,
      }),
    );
  const measured = async (previewId: string, durations: readonly number[], errors = 0) => {
    const samples: RequestSample[] = durations.map((durationMs, i) => ({
      at: clock.now(),
      statusCode: i < errors ? 500 : 200,
      durationMs,
      bytesIn: 0,
      bytesOut: 10,
    }));
    for (const bucket of bucketsOf(samples)) await metrics.addRequests(previewId, bucket);
  };
  return { app, comparison, preview, measured, recorded };
}

describe('VersionComparison', () => {
  it("compares the API contracts the two running apps serve, and names each side's versions", async () => {
    const { app, comparison, preview, recorded } = world();
    preview('v1', 41001);
    preview('v2', 41002);

    const result = await comparison.compare(identity, 'v1', 'v2');

    expect(result.base).toEqual({
      generationId: 'v1',
      version: '1',
      previewInstanceId: 'p-v1',
      apiVersion: '1.0.0',
    });
    expect(result.other).toEqual({
      generationId: 'v2',
      version: '2',
      previewInstanceId: 'p-v2',
      apiVersion: '2.0.0',
    });
    expect(result.comparison.endpoints.added).toEqual([{ method: 'POST', path: '/todos' }]);
    expect(result.comparison.endpoints.removed).toEqual([{ method: 'GET', path: '/legacy' }]);
    expect(result.comparison.endpoints.modified).toEqual([]);
    expect(app.requests.map((r) => [r.endpoint.port, r.request.target]).sort()).toEqual([
      [41001, '/openapi.json'],
      [41002, '/openapi.json'],
    ]);
    // Reading the documents is the service's own traffic, not the user's: it is not measured.
    expect(recorded).toEqual([]);
  });

  it('compares the requests measured on each preview', async () => {
    const { comparison, preview, measured } = world();
    preview('v1', 41001);
    preview('v2', 41002);
    await measured('p-v1', [100, 100, 100, 100], 1);
    await measured('p-v2', [50, 50, 50, 50]);

    const { performance } = (await comparison.compare(identity, 'v1', 'v2')).comparison;

    expect(performance).toMatchObject({
      available: true,
      avgResponseTimeChange: '-50%',
      errorRateChange: '-100%',
      base: { requestCount: 4, errorCount: 1 },
      other: { requestCount: 4, errorCount: 0 },
    });
  });

  it('says which side has no measured requests yet', async () => {
    const { comparison, preview, measured } = world();
    preview('v1', 41001);
    preview('v2', 41002);
    await measured('p-v1', [10]);

    const { performance } = (await comparison.compare(identity, 'v1', 'v2')).comparison;

    expect(performance).toEqual({
      available: false,
      reason: expect.stringContaining('the preview of v2') as string,
    });
    expect(performance.available === false && performance.reason).not.toContain('the preview of v1');
  });

  it('refuses when a side is not running, and says for each what to do', async () => {
    const { app, comparison, preview } = world();
    preview('v1', 41001, { status: 'building' });
    preview('v2', 41002, { status: 'stopped' });

    const refusal = comparison.compare(identity, 'v1', 'v2');

    await expect(refusal).rejects.toMatchObject({
      code: 'preview_not_running',
      details: {
        notServing: [
          { generationId: 'v1', status: 'building' },
          { generationId: 'v2', status: 'stopped' },
        ],
      },
    });
    await expect(refusal).rejects.toThrow(
      'the preview of v1 is building (wait until it runs); the preview of v2 is stopped (launch it)',
    );
    expect(app.requests).toEqual([]);
  });

  it("names a version with no preview, and does not see another user's", async () => {
    const { comparison, preview } = world();
    preview('v1', 41001);
    preview('v3', 41003, { userId: 'user-2' });

    await expect(comparison.compare(identity, 'v1', 'v3')).rejects.toMatchObject({
      code: 'preview_not_running',
      message: expect.stringContaining('v3 has no preview (launch it)') as string,
      details: { notServing: [{ generationId: 'v3', status: null }] },
    });
  });

  it('answers 404 for a version that does not exist', async () => {
    const { comparison, preview } = world();
    preview('v1', 41001);

    await expect(comparison.compare(identity, 'v1', 'v9')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('says so when a running app serves no OpenAPI document', async () => {
    const { app, comparison, preview } = world();
    preview('v1', 41001);
    preview('v2', 41002);
    app.send = async () => json(404, { detail: 'Not Found' });

    await expect(comparison.compare(identity, 'v1', 'v2')).rejects.toMatchObject({ code: 'unavailable' });
  });
});
