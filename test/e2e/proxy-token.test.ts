import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from '../support/docker.js';
import { startTestService, type TestService } from '../support/local-service.js';

let service: TestService;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  service = await startTestService({ tier: 'free' });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
});

describe.skipIf(skipWithoutDocker)('the proxy, while previews are read from memory', () => {
  it('refuses an old token at once after a rotation, and every token at once after a delete', async () => {
    const launch = await service.launch('hello-api');
    expect(launch.settled.status).toBe('healthy');
    const proxied = (previewToken: string) =>
      service.api('GET', '/api/generations/hello-api/preview/proxy/health', undefined, {
        'x-preview-token': previewToken,
      });
    const first = launch.json.previewToken as string;
    for (let i = 0; i < 3; i += 1) expect((await proxied(first)).status).toBe(200);

    const rotated = await service.api('POST', '/api/generations/hello-api/preview/token');
    expect(rotated.status).toBe(200);
    const second = rotated.json.previewToken as string;
    expect((await proxied(first)).status).toBe(403);
    expect((await proxied(second)).status).toBe(200);

    expect((await service.api('DELETE', '/api/generations/hello-api/preview')).status).toBe(200);
    const afterDelete = await proxied(second);
    expect(afterDelete.status).toBe(409);
    expect(afterDelete.json.error.code).toBe('preview_not_running');
  });
});
