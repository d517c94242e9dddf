import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { skipWithoutDocker } from '../support/docker.js';
import { startTestService, type TestService } from '../support/local-service.js';

/** Chromium starts and renders on a busy machine: generous, never waited out when things work. */
const renderTimeout = 60_000;

/** Run before a page's own scripts: the `src` of every image the page adds. */
const recordImages = `
window.imagesAdded = [];
new MutationObserver((records) => {
  for (const record of records)
    for (const node of record.addedNodes)
      if (node.nodeName === 'IMG') window.imagesAdded.push(node.getAttribute('src'));
}).observe(document, { childList: true, subtree: true });
`;

/** What the frontend's page read of one call: the answer, or the reason `fetch` rejected. */
type PageAnswer = { status: number; body: unknown } | { rejected: string };

interface PageServer {
  readonly origin: string;
  close(): Promise<void>;
}

let service: TestService;
let allowedPage: PageServer;
let otherPage: PageServer;
let browser: Browser;

/**
 * The frontend on its own origin: its script calls the service as a SaaS page would, with the
 * bearer token (a preflighted request), without one, and for a generation that does not exist
 * (preflighted for its JSON body too), and shows what it could read.
 */
function frontendPage(serviceUrl: string, token: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Frontend</title></head>
<body>
<pre id="answers"></pre>
<script type="module">
const service = ${JSON.stringify(serviceUrl)};
const bearer = { Authorization: ${JSON.stringify(`Bearer ${token}`)} };
async function call(path, init) {
  try {
    const response = await fetch(service + path, init);
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { rejected: String(error) };
  }
}
const answers = {
  previews: await call('/api/previews', { headers: bearer }),
  withoutToken: await call('/api/previews'),
  unknownGeneration: await call('/api/generations/no-such-generation/preview/launch', {
    method: 'POST',
    headers: { ...bearer, 'Content-Type': 'application/json' },
    body: '{}',
  }),
};
const shown = document.getElementById('answers');
shown.textContent = JSON.stringify(answers);
shown.dataset.done = 'true';
</script>
</body>
</html>
`;
}

/** A second HTTP server on 127.0.0.1: another port, so another origin than the service's. */
async function servePage(): Promise<PageServer> {
  const server = createServer((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    const body = frontendPage(service.runtime.url, service.token);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Opens the frontend page served at `origin` and returns what its script read. */
async function answersOn(origin: string): Promise<Record<string, PageAnswer>> {
  const page = await browser.newPage();
  const scriptErrors: string[] = [];
  page.on('pageerror', (error) => scriptErrors.push(error.message));
  try {
    await page.goto(`${origin}/`);
    const answers = page.locator('#answers[data-done="true"]');
    await answers.waitFor({ timeout: renderTimeout });
    expect(scriptErrors).toEqual([]);
    return JSON.parse((await answers.textContent()) ?? '') as Record<string, PageAnswer>;
  } finally {
    await page.close();
  }
}

beforeAll(async () => {
  if (skipWithoutDocker) return;
  allowedPage = await servePage();
  otherPage = await servePage();
  service = await startTestService({ tier: 'free', env: { PREVIEW_ALLOWED_ORIGIN: allowedPage.origin } });
  browser = await launchChromium();
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await browser?.close();
  await service?.close();
  await allowedPage?.close();
  await otherPage?.close();
});

describe.skipIf(skipWithoutDocker)('the local service in a browser', () => {
  it(
    "lets the frontend's origin read every answer, errors included, and no other origin",
    async () => {
      const readable = await answersOn(allowedPage.origin);
      expect(readable.previews).toMatchObject({
        status: 200,
        body: { previews: [], quota: { tier: 'free' } },
      });
      expect(readable.withoutToken).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      expect(readable.unknownGeneration).toMatchObject({
        status: 404,
        body: { error: { code: 'not_found' } },
      });

      const refused = await answersOn(otherPage.origin);
      for (const call of ['previews', 'withoutToken', 'unknownGeneration'])
        expect(refused[call], call).toEqual({ rejected: 'TypeError: Failed to fetch' });
    },
    2 * renderTimeout,
  );

  it(
    'renders /docs and /docs/websocket from this server alone, without errors',
    async () => {
      const context: BrowserContext = await browser.newContext();
      const serviceOrigin = new URL(service.runtime.url).origin;
      const elsewhere: string[] = [];
      const problems: string[] = [];
      context.on('request', (request) => {
        // A `blob:` URL carries its creator's origin; a `data:` URL is no request to anyone.
        const url = new URL(request.url());
        if (url.protocol !== 'data:' && url.origin !== serviceOrigin) elsewhere.push(request.url());
      });
      context.on('requestfailed', (request) =>
        problems.push(`failed: ${request.url()} (${request.failure()?.errorText})`),
      );
      context.on('response', (response) => {
        if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
      });
      await context.addInitScript(recordImages);
      const page: Page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error')
          problems.push(`console error: ${message.text()} ${message.location().url}`);
      });
      try {
        await page.goto(`${service.runtime.url}/docs`);
        await page.locator('h1', { hasText: /^Preview service/ }).waitFor({ timeout: renderTimeout });
        await page.locator('h2', { hasText: /^Launch a preview/ }).waitFor({ timeout: renderTimeout });
        // The last thing the viewer adds is its credit's logo, once the page is shown: by then
        // it has asked for everything it was going to.
        await page.waitForFunction('window.imagesAdded.length > 0', undefined, { timeout: renderTimeout });

        await page.getByRole('link', { name: 'WebSocket contract' }).click();
        await page.waitForURL(`${service.runtime.url}/docs/websocket`, { timeout: renderTimeout });
        await page.locator('#message-closing').waitFor({ timeout: renderTimeout });
        await expect(page.locator('h1').textContent()).resolves.toMatch(/^Preview service live stream/);
        const restarted = page.getByRole('row').filter({ hasText: 'preview_restarted' });
        await expect(restarted.locator('td').first().textContent()).resolves.toBe('4004');

        expect(elsewhere).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
    3 * renderTimeout,
  );
});
