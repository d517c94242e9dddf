import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';

/** The local service with the maintenance switch on, driven over real HTTP. */

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ tier: 'free', env: { PREVIEW_MAINTENANCE: 'on' } });
}, 60_000);
afterAll(async () => {
  await service?.close();
  delete process.env.PREVIEW_MAINTENANCE;
});

describe('maintenance mode, locally', () => {
  it('answers launches 503 maintenance with Retry-After, and keeps the other routes working', async () => {
    const response = await fetch(`${service.runtime.url}/api/generations/hello-api/preview/launch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('300');
    expect(await response.json()).toMatchObject({ error: { code: 'maintenance' } });

    const previews = await service.api('GET', '/api/previews');
    expect(previews.status).toBe(200);
    expect(previews.json.previews).toEqual([]);
  });
});
