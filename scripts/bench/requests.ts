import type { UserApi } from './api.js';
import { duration, type Report } from './report.js';
import { summarize } from './stats.js';

const requestTimeoutMs = 10_000;

export interface RequestLoop {
  /** Most requests per kind, and the longest the loop may take. */
  readonly requests: number;
  readonly maxMs: number;
  readonly warmup: number;
}

/**
 * The same cheap GET through the service's proxy and straight to the app (`appOrigin`),
 * alternating, so both see the same machine at the same moment.
 */
export async function proxyOverhead(
  api: UserApi,
  generationId: string,
  appOrigin: string,
  path: string,
  loop: RequestLoop,
  report: Report,
): Promise<void> {
  const proxied = () =>
    timedGet(`${api.baseUrl}/api/generations/${generationId}/preview/proxy${path}`, {
      authorization: api.authorization,
    });
  const direct = () => timedGet(`${appOrigin}${path}`, {});

  for (let i = 0; i < loop.warmup; i += 1) {
    await proxied();
    await direct();
  }
  const proxiedMs: number[] = [];
  const directMs: number[] = [];
  const started = performance.now();
  while (proxiedMs.length < loop.requests && performance.now() - started < loop.maxMs) {
    proxiedMs.push(await proxied());
    directMs.push(await direct());
  }
  console.log(`  ${proxiedMs.length} pairs of GET ${path} in ${duration(performance.now() - started)}`);

  const viaProxy = summarize(proxiedMs);
  const straight = summarize(directMs);
  const overhead = {
    count: viaProxy.count,
    p50: viaProxy.p50 - straight.p50,
    p95: viaProxy.p95 - straight.p95,
    p99: viaProxy.p99 - straight.p99,
  };
  const row = { showP99: true, target: '', met: undefined };
  report.percentiles.push({ ...row, name: `GET ${path} direct to the app`, summary: straight });
  report.percentiles.push({ ...row, name: `GET ${path} through …/preview/proxy`, summary: viaProxy });
  report.notes.push(
    'proxy overhead: proxied and direct GETs alternate over kept-alive connections; the gateway runs in ' +
      "the bench's own Node.js process, so the client's work shares its event loop. Overhead is " +
      'the difference of percentiles, not a percentile of differences.',
  );
  report.percentiles.push({
    ...row,
    name: 'proxy overhead (proxied − direct)',
    summary: overhead,
    target: 'p95 ≤ 3 ms',
    met: overhead.p95 <= 3,
  });
}

/** N sequential status calls of one healthy preview. */
export async function statusLatency(
  api: UserApi,
  generationId: string,
  loop: RequestLoop,
  report: Report,
): Promise<void> {
  const url = `${api.baseUrl}/api/generations/${generationId}/preview/status`;
  const headers = { authorization: api.authorization };
  for (let i = 0; i < loop.warmup; i += 1) await timedGet(url, headers);
  const times: number[] = [];
  const started = performance.now();
  while (times.length < loop.requests && performance.now() - started < loop.maxMs) {
    times.push(await timedGet(url, headers));
  }
  const summary = summarize(times);
  report.percentiles.push({
    name: 'GET …/preview/status',
    summary,
    showP99: true,
    target: 'p95 ≤ 10 ms',
    met: summary.p95 <= 10,
  });
}

/** Milliseconds from sending the request to the last byte of a 200 answer. */
async function timedGet(url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(requestTimeoutMs) });
  await response.arrayBuffer();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return ms;
}
