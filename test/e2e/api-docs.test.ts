import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageFetchPolicy } from '#local/api-docs.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { anyGeneration, RecordingStarter } from '../support/preview-service.js';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    overrides: { starter: new RecordingStarter(), generations: anyGeneration },
  });
});

afterAll(async () => {
  await runtime?.close();
});

describe('the API reference at /docs', () => {
  it('is an HTML page whose every asset is served here, without a token', async () => {
    const response = await fetch(`${runtime.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    // What the viewer would fetch by itself (its maker's logo) is refused by the browser.
    expect(response.headers.get('content-security-policy')).toBe(pageFetchPolicy);
    const html = await response.text();
    const references = [...html.matchAll(/\b(?:src|href|spec-url)="([^"]*)"/g)].map(
      (match) => match[1] as string,
    );
    expect(references).toEqual(
      expect.arrayContaining(['/docs/assets/redoc.standalone.js', '/api/openapi.json', '/docs/websocket']),
    );
    for (const reference of references) {
      // Local: a path on this server or inline data, never another host (no `//host`).
      expect(reference, reference).toMatch(/^(?:\/(?!\/)|data:)/);
    }
    const viewer = await fetch(`${runtime.url}/docs/assets/redoc.standalone.js`);
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('content-type')).toMatch(/javascript/);
    const bundle = Buffer.from(await viewer.arrayBuffer());
    expect(bundle.byteLength).toBe(Number(viewer.headers.get('content-length')));
    // Its maker's logo, which the viewer would load from a CDN, is left out.
    expect(bundle.includes('cdn.redoc.ly'), 'the bundle names cdn.redoc.ly').toBe(false);
    const document = await fetch(`${runtime.url}/api/openapi.json`);
    expect(document.status).toBe(200);
    expect(await document.json()).toMatchObject({ openapi: '3.1.0' });
  });

  it('leaves the other /docs paths to whatever serves them', async () => {
    const response = await fetch(`${runtime.url}/docs/nothing-here`);
    expect(response.status).toBe(404);
  });
});
