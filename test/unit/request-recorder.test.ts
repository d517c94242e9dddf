import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestBucket } from '#core/metrics.js';
import { RequestRecorder } from '#core/request-recorder.js';

afterEach(() => {
  vi.useRealTimers();
});

function recorder(flushAfterMs = 1000) {
  const added: [string, RequestBucket][] = [];
  const store = {
    addRequests: async (previewId: string, bucket: RequestBucket) => void added.push([previewId, bucket]),
  };
  return { added, requests: new RequestRecorder(store, flushAfterMs, () => undefined) };
}

const sample = (at: string, durationMs: number, statusCode: number | undefined = 200) => ({
  at: new Date(at),
  statusCode,
  durationMs,
  bytesIn: 10,
  bytesOut: 100,
});

describe('RequestRecorder', () => {
  it('writes nothing on the request path, then one bucket per preview and minute', async () => {
    vi.useFakeTimers();
    const { added, requests } = recorder();
    await requests.record('p1', sample('2026-11-26T10:00:01Z', 10));
    await requests.record('p1', sample('2026-11-26T10:00:02Z', 30, 503));
    await requests.record('p1', sample('2026-11-26T10:01:00Z', 20, 404));
    await requests.record('p2', sample('2026-11-26T10:00:03Z', 5));
    expect(added).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(added.map(([p, b]) => [p, b.minute, b.requests, b.errors, b.durationSumMs, b.bytesOut])).toEqual([
      ['p1', '2026-11-26T10:00:00Z', 2, 1, 40, 200],
      ['p1', '2026-11-26T10:01:00Z', 1, 0, 20, 100],
      ['p2', '2026-11-26T10:00:00Z', 1, 0, 5, 100],
    ]);
    expect(added[0]?.[1].errorTypes).toEqual({ '5xx': 1 });
    expect(added[1]?.[1].errorTypes).toEqual({ '4xx': 1 });
    expect(Object.values(added[0]?.[1].sketch ?? {}).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('writes what is overdue on the next request when no timer ran (a frozen function)', async () => {
    const { added, requests } = recorder(0);
    await requests.record('p1', sample('2026-11-26T10:00:01Z', 10));
    expect(added).toHaveLength(1);
  });
});
