import { describe, expect, it } from 'vitest';
import {
  closingMessage,
  healthMessage,
  logMessage,
  messageLimits,
  metricMessage,
  packMessages,
  statusMessage,
  storageWarningMessage,
  subscribedMessage,
} from '#core/live-messages.js';
import { serverMessageSchema } from '#core/live-schemas.js';
import { totalRequests } from '#core/metrics.js';
import { statusView } from '#core/preview-views.js';
import { previewRecord } from '../../support/in-memory.js';
import type { LogEntry } from '#core/log-entry.js';
import type { PreviewHealth } from '#core/preview.js';

const entry = (n: number, message = `line ${n}`): LogEntry => ({
  timestamp: '2025-10-20T12:20:15.000Z',
  level: 'INFO',
  source: 'request',
  message,
  metadata: { n },
  cursor: `1760962815000-${n}`,
});

describe('server messages', () => {
  it("are the seed's log shape, with the line's cursor", () => {
    expect(logMessage(entry(1))).toEqual({
      type: 'log',
      timestamp: '2025-10-20T12:20:15.000Z',
      level: 'INFO',
      source: 'request',
      message: 'line 1',
      metadata: { n: 1 },
      cursor: '1760962815000-1',
    });
  });

  it("are the seed's metric shape: MB, cores, requests and error rate of the last minute", () => {
    const sample = {
      at: '2025-10-20T12:20:30Z',
      memoryUsedBytes: 245 * 1024 * 1024,
      memoryLimitBytes: 512 * 1024 * 1024,
      cpuCores: 0.4213,
      networkRxBytes: 0,
      networkTxBytes: 0,
    };
    const bucket = {
      minute: '2025-10-20T12:19:00Z',
      requests: 120,
      errors: 3,
      durationSumMs: 1200,
      bytesIn: 0,
      bytesOut: 0,
      errorTypes: {},
      sketch: {},
    };
    expect(metricMessage(sample, bucket)).toEqual({
      type: 'metric',
      timestamp: '2025-10-20T12:20:30Z',
      metric: 'resource_usage',
      data: { memory: 245, cpu: 0.421, requests_per_minute: 120, error_rate: 2.5 },
    });
    expect(metricMessage(sample, undefined).data).toMatchObject({ requests_per_minute: 0, error_rate: 0 });
  });

  it("are the seed's health shape, listing the checks that changed in REST's words", () => {
    const previous: PreviewHealth = {
      status: 'healthy',
      checkedAt: '2025-10-20T12:20:00Z',
      consecutiveFailures: 0,
      checks: [
        { name: 'http', status: 'passing' },
        { name: 'database', status: 'passing', message: 'Connected' },
      ],
    };
    const now: PreviewHealth = {
      ...previous,
      status: 'degraded',
      checkedAt: '2025-10-20T12:20:30Z',
      checks: [
        { name: 'http', status: 'passing' },
        { name: 'database', status: 'failing', message: 'Connection refused' },
      ],
    };
    expect(healthMessage(now, previous)).toEqual({
      type: 'health',
      timestamp: '2025-10-20T12:20:30Z',
      status: 'degraded',
      changes: [{ name: 'database', status: 'failing', message: 'Connection refused' }],
    });
    expect(healthMessage(previous, undefined).changes).toEqual([
      { name: 'http', status: 'passing', message: 'passing' },
      { name: 'database', status: 'passing', message: 'Connected' },
    ]);
  });

  it('say the status and health as REST does, and how long is left when the session is about to end', () => {
    const record = previewRecord({
      previewId: 'p1',
      status: 'healthy',
      expiresAt: '2025-10-20T14:00:00Z',
      health: {
        status: 'healthy',
        checkedAt: '2025-10-20T13:54:50Z',
        consecutiveFailures: 0,
        checks: [{ name: 'memory', status: 'passing', usage: '45%' }],
      },
    });
    const at = new Date('2025-10-20T13:55:00Z');
    expect(statusMessage(record, at, 300)).toEqual({
      type: 'status',
      timestamp: '2025-10-20T13:55:00.000Z',
      previewId: record.previewId,
      status: 'healthy',
      statusReason: null,
      expiresAt: '2025-10-20T14:00:00Z',
      expiresInSeconds: 300,
      health: {
        status: 'healthy',
        checks: [{ name: 'memory', status: 'passing', usage: '45%', lastCheck: '2025-10-20T13:54:50Z' }],
      },
    });
    expect(statusMessage(record, at).health).toEqual(
      statusView(record, { api: 'http://x', websocket: undefined }, at, {
        resources: undefined,
        requests: totalRequests([]),
      }).health,
    );
  });

  it('are each valid by their schema, the one the AsyncAPI document is made of', () => {
    const record = previewRecord({ previewId: 'p1', status: 'stopped', statusReason: 'stopped by user' });
    const health: PreviewHealth = {
      status: 'unhealthy',
      checkedAt: '2025-10-20T12:20:30Z',
      consecutiveFailures: 1,
      checks: [{ name: 'http', status: 'failing', message: 'refused' }],
    };
    const messages = [
      logMessage(entry(1)),
      statusMessage(record, new Date()),
      healthMessage(health, undefined),
      metricMessage(
        {
          at: '2025-10-20T12:20:30Z',
          memoryUsedBytes: 1,
          memoryLimitBytes: 2,
          cpuCores: 0.1,
          networkRxBytes: 0,
          networkTxBytes: 0,
        },
        undefined,
      ),
      storageWarningMessage('2025-10-20T12:20:30Z', { usedBytes: 1, storageGb: 1, percent: 90 }),
      subscribedMessage({ level: 'INFO', sources: ['request'] }),
      closingMessage(record, { cause: 'preview_restarted', successorPreviewId: 'p2' }, 'ws://x/logs'),
    ];
    for (const message of messages) expect(serverMessageSchema.parse(message)).toEqual(message);
    expect(new Set(messages.map((m) => m.type))).toEqual(
      new Set(['log', 'status', 'health', 'metric', 'warning', 'subscribed', 'closing']),
    );
  });
});

describe('the storage warning', () => {
  it('says how full the storage is and what happens when it is full', () => {
    const usage = { usedBytes: 0.95 * 1024 ** 3, storageGb: 1, percent: 95 };
    expect(storageWarningMessage('2026-12-02T10:00:00.000Z', usage)).toEqual({
      type: 'warning',
      timestamp: '2026-12-02T10:00:00.000Z',
      warning: 'storage',
      message: 'Storage is 95% full (972.8MB of 1GB); the preview stops when it is full.',
      data: { used: '972.8MB', allocated: '1GB', percent: 95 },
    });
  });
});

describe('packing messages for API Gateway', () => {
  it('puts as many lines as fit in one 32 KB frame, one JSON object per line, in order', () => {
    const messages = Array.from({ length: 2000 }, (_, n) => logMessage(entry(n)));
    const packed = packMessages(messages);
    expect(packed.length).toBeGreaterThan(1);
    for (const data of packed) expect(Buffer.byteLength(data)).toBeLessThanOrEqual(messageLimits.frameBytes);
    const lines = packed.flatMap((data) =>
      data.split('\n').map((text) => JSON.parse(text) as { cursor: string }),
    );
    expect(lines.map((l) => l.cursor)).toEqual(messages.map((m) => m.cursor));
  });

  it('sends a line larger than a frame on its own, and cuts one larger than a message', () => {
    const big = logMessage(entry(1, 'x'.repeat(60 * 1024)));
    const huge = logMessage(entry(2, 'y'.repeat(300 * 1024)));
    const packed = packMessages([logMessage(entry(0)), big, huge, logMessage(entry(3))]);
    expect(packed).toHaveLength(4);
    expect(JSON.parse(packed[1] as string)).toEqual(big);
    const cut = JSON.parse(packed[2] as string) as { message: string; metadata: Record<string, unknown> };
    expect(Buffer.byteLength(packed[2] as string)).toBeLessThanOrEqual(messageLimits.messageBytes);
    expect(cut.message).toMatch(/^y+$/);
    expect(cut.metadata).toEqual({ truncated: true, originalBytes: 300 * 1024 });
  });
});
