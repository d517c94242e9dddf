import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/local-service.js';
import { leftovers, skipWithoutDocker } from '../support/docker.js';
import { LiveClient, type Received } from '../support/live-client.js';
import { FaultRun, recordFault } from './support/fault-run.js';

const lineCount = 20_000;
const rate = 1000;

/**
 * A WebSocket client follows an app printing 1,000 lines a second; the service is killed
 * (kill -9) mid-stream and started again. The client reconnects with `after=<last cursor>` and
 * gets every line exactly once, including those printed while the service was down.
 */
describe.skipIf(skipWithoutDocker)('the service restarts mid-stream', () => {
  let run: FaultRun;
  let generationId: string;
  let previewId: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    run = await FaultRun.create();
    generationId = await run.generation('log-demo', `stream-${Date.now().toString(36)}`);
    await run.service.start();
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await run?.close();
  });

  const ticks = (received: readonly Received[]) =>
    received
      .filter((m) => m.type === 'log' && /^tick \d+$/.test(String(m.message)))
      .map((m) => ({ n: Number(String(m.message).slice(5)), cursor: String(m.cursor) }));

  it('a client resuming after its last cursor gets every line once: no gap, no duplicate', async (context) => {
    const launch = await run.api('POST', `/api/generations/${generationId}/preview/launch`, {});
    expect(launch.status, JSON.stringify(launch.json)).toBe(202);
    previewId = launch.json.previewInstanceId;
    const settled = await until(
      90,
      () => run.status(generationId),
      (s) => ['healthy', 'failed'].includes(s.status),
    );
    expect(settled.status, JSON.stringify(settled.failure)).toBe('healthy');
    const wsUrl = `${launch.json.wsUrl}?token=${launch.json.previewToken}`;

    const first = await LiveClient.connect(wsUrl);
    clients.push(first);
    const emit = await run.api('POST', `/api/generations/${generationId}/preview/request`, {
      method: 'POST',
      path: '/emit',
      body: { count: lineCount, rate, message: 'tick' },
    });
    expect(emit.json.statusCode).toBe(202);
    await first.until((all) => ticks(all).length >= 3000, 30_000);
    await run.service.kill();
    const before = ticks(first.received);
    const lastCursor = before.at(-1)!.cursor;
    // The app goes on printing while nothing reads it.
    const downFrom = before.at(-1)!.n;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await run.service.start();

    const second = await LiveClient.connect(`${wsUrl}&after=${lastCursor}`).catch((e) => {
      throw new Error(`${e.status} ${e.body} ${run.service.log.slice(-2000)}`);
    });
    clients.push(second);
    await second.until((all) => ticks(all).some((t) => t.n === lineCount - 1), 60_000);
    const after = ticks(second.received);
    const all = [...before, ...after];
    const numbers = all.map((t) => t.n);
    const first0 = numbers[0]!;
    const expected = Array.from({ length: lineCount - first0 }, (_, i) => first0 + i);
    const missing = expected.filter((n) => !numbers.includes(n)).length;
    const duplicates = numbers.length - new Set(numbers).size;
    const cursorsBackwards = all.filter((t, i) => i > 0 && compare(t.cursor, all[i - 1]!.cursor) <= 0).length;
    recordFault(context, { lost: missing, orphaned: 0 });
    expect({ missing, duplicates, cursorsBackwards }).toEqual({
      missing: 0,
      duplicates: 0,
      cursorsBackwards: 0,
    });
    expect(numbers).toEqual(expected);
    // Lines were printed while the service was down, and arrived all the same.
    expect(after[0]!.n).toBe(downFrom + 1);

    expect((await run.api('DELETE', `/api/generations/${generationId}/preview`)).status).toBeLessThan(300);
    expect(
      await until(
        120,
        () => leftovers(previewId),
        (left) => left.length === 0,
      ),
    ).toEqual([]);
  }, 300_000);
});

/** Cursors `<ms>-<id>`, compared as the service does: time first, then the id. */
function compare(a: string, b: string): number {
  const [timeA, idA] = a.split('-').map(BigInt) as [bigint, bigint];
  const [timeB, idB] = b.split('-').map(BigInt) as [bigint, bigint];
  if (timeA !== timeB) return timeA < timeB ? -1 : 1;
  return idA === idB ? 0 : idA < idB ? -1 : 1;
}
