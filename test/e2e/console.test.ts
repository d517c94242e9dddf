import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, type TestService } from '../support/local-service.js';

const outputDir = 'test-output';
const generationId = 'hello-api';
/** Launches build an image: minutes on a busy machine, not seconds. */
const launchTimeout = 180_000;
const eventTimeout = 60_000;
const burstLines = 2000;

let service: TestService;
let browser: Browser;
let page: Page;
/** What the page reported as broken: script errors and refused loads (a CSP violation is one). */
const pageProblems: string[] = [];

const textOf = (testId: string) => page.getByTestId(testId).textContent();
const status = (name: string) =>
  page.getByTestId('preview-status').filter({ hasText: new RegExp(`^${name}$`) });

/**
 * Run in the page, on the element (typed loosely: the test's own program has no DOM types): how
 * many of the canvas's pixels are not transparent.
 */
function paintedPixelsOf(canvas: {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}): number {
  const pixels = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
  let painted = 0;
  for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] !== 0) painted += 1;
  return painted;
}

/** A chart that shows more than `n` instants. */
const morePointsThan = (n: number) =>
  Array.from({ length: n + 1 }, (_, i) => `:not([data-points="${i}"])`).join('');

const clientHeightOf = (element: { clientHeight: number }) => element.clientHeight;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  // Live resource samples every second, so the charts get points within the test.
  service = await startTestService({ tier: 'free', env: { PREVIEW_RESOURCE_SAMPLE_SECONDS: '1' } });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 780 } });
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageProblems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) pageProblems.push(`${response.status()} for ${response.url()}`);
  });
});

afterAll(async () => {
  if (skipWithoutDocker) return;
  await browser?.close();
  // Whatever the test reached, the preview it launched from the page is stopped.
  await service?.api('DELETE', `/api/generations/${generationId}/preview`);
  await service?.close();
});

describe.skipIf(skipWithoutDocker)('web console in a headless browser', () => {
  it('serves the page and its bundle with their content types and a strict CSP', async () => {
    const html = await fetch(`${service.runtime.url}/`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
    const script = await fetch(`${service.runtime.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const styles = await fetch(`${service.runtime.url}/console/app.css`);
    expect(styles.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await fetch(`${service.runtime.url}/console/missing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it(
    'launches hello-api from the page, shows its timeline, logs and charts, and deletes it',
    async () => {
      await page.goto(`${service.runtime.url}/`);
      await page.getByTestId('token-input').fill(service.token);
      await page.getByTestId('token-save').click();
      await page.getByTestId('quota').waitFor({ timeout: eventTimeout });
      expect(await textOf('quota')).toMatch(/^0 of \d+ in use \(free\)/);

      await page.getByTestId('example').selectOption(generationId);
      await page.getByTestId('launch').click();
      await page.getByTestId('timeline').locator('li').first().waitFor({ timeout: eventTimeout });
      await status('healthy').waitFor({ timeout: launchTimeout });
      expect(await page.getByTestId('timeline').locator('li').count()).toBeGreaterThan(1);
      await page
        .getByTestId('quota')
        .filter({ hasText: /^1 of / })
        .waitFor({ timeout: eventTimeout });

      // Requests through the service: each is a log line of the app and a response-time sample;
      // a missing greeting is a 404, which the app logs as a warning.
      for (const path of ['/hello/ada', '/hello/grace', '/hello/linus', '/greetings/999']) {
        const answer = await service.api('POST', `/api/generations/${generationId}/preview/request`, {
          method: 'GET',
          path,
        });
        expect(answer.status).toBe(200);
      }
      const rows = page.locator('.log-row');
      await rows.filter({ hasText: '/hello/grace' }).first().waitFor({ timeout: eventTimeout });

      // The search narrows the list to matching lines; clearing it brings the others back.
      await page.getByTestId('log-search').fill('/hello/linus');
      await rows.filter({ hasNotText: '/hello/linus' }).first().waitFor({ state: 'detached' });
      await expect(rows.count()).resolves.toBeGreaterThan(0);
      await page.getByTestId('log-search').fill('');
      await rows.filter({ hasText: '/hello/grace' }).first().waitFor();

      // The level filter keeps warnings and errors only.
      await page.getByTestId('log-level').selectOption('WARN');
      await rows
        .filter({ hasText: /INFO|DEBUG/ })
        .first()
        .waitFor({ state: 'detached' });
      await rows.filter({ hasText: '/greetings/999' }).first().waitFor();
      await page.getByTestId('log-level').selectOption('DEBUG');

      // Live samples reach the memory chart, and uPlot draws it on its canvas; the stored
      // per-minute figures of those requests reach the response-time chart.
      const memoryChart = page.getByTestId('chart-memory');
      await memoryChart.and(page.locator(morePointsThan(1))).waitFor({ timeout: eventTimeout });
      const paintedPixels = await memoryChart.locator('canvas').evaluate(paintedPixelsOf);
      expect(paintedPixels).toBeGreaterThan(0);
      await page
        .getByTestId('chart-response-time')
        .and(page.locator(morePointsThan(0)))
        .waitFor({ timeout: eventTimeout });

      await mkdir(outputDir, { recursive: true });
      await page.screenshot({ path: join(outputDir, 'console.png') });

      // A burst of a thousand lines a second, written as the app's output: every line reaches the
      // list, and only the rows in view are in the DOM.
      const { previewInstanceId } = await service.status(generationId);
      for (let batch = 0; batch < burstLines / 100; batch += 1) {
        for (let line = 0; line < 100; line += 1) {
          const n = batch * 100 + line;
          service.runtime.logs.processLine(
            previewInstanceId,
            'app',
            JSON.stringify({ level: 'INFO', source: 'request', message: `burst line ${n}` }),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await rows.filter({ hasText: `burst line ${burstLines - 1}` }).waitFor({ timeout: eventTimeout });
      const counted = Number((await textOf('log-count'))?.split(' ')[0]);
      expect(counted).toBeGreaterThan(burstLines);
      const viewHeight = await page.getByTestId('log-view').evaluate(clientHeightOf);
      expect(await rows.count()).toBeLessThanOrEqual(Math.ceil(viewHeight / 18) + 21);
      await page.getByTestId('log-search').fill('burst line 1234');
      await rows.filter({ hasText: 'burst line 1234' }).waitFor();
      expect(await rows.count()).toBe(1);
      await page.getByTestId('log-search').fill('');

      await page.getByRole('button', { name: 'Delete' }).click();
      await status('stopped').waitFor({ timeout: eventTimeout });
      expect(await leftovers(previewInstanceId)).toEqual([]);
      expect(pageProblems).toEqual([]);
    },
    launchTimeout + 4 * eventTimeout,
  );
});
