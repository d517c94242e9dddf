import type { LaunchResponse, StatusResponse } from './api-schemas.js';
import { allowanceBytes, formatBytes } from './storage-allowance.js';
import { isServing } from './lifecycle.js';
import type { RequestTotals, ResourceSample } from './metrics.js';
import { redactSecrets } from './log-redaction.js';
import type { PreviewFailure, PreviewRecord } from './preview.js';
import { quantile } from './quantile-sketch.js';
import { appliedLimits } from './resource-fit.js';
import { formatCpu, formatMemory } from './tiers.js';

/** Client-facing shapes of a stored preview, as docs/api.md describes them. */

export interface PreviewUrls {
  /** Base URL of the API, e.g. `https://api.example.com/prod` or `http://127.0.0.1:3000`. */
  readonly api: string;
  /** Base URL of the WebSocket endpoint, before the per-generation path and query. */
  readonly websocket: string | undefined;
}

/** A failure as it is stored and shown: its message and the app's last lines redacted. */
export function redactedFailure(failure: PreviewFailure): PreviewFailure & { lastLines?: string[] } {
  const { lastLines, ...rest } = failure;
  return {
    ...rest,
    message: redactSecrets(failure.message),
    ...(lastLines ? { lastLines: lastLines.map((line) => redactSecrets(line)) } : {}),
  };
}

export function previewBaseUrl(urls: PreviewUrls, generationId: string): string {
  return `${urls.api}/api/generations/${generationId}/preview/proxy`;
}

/** Locally the log stream lives beside the REST routes; in AWS it is the WebSocket API's stage URL. */
export function previewWsUrl(urls: PreviewUrls, generationId: string): string {
  if (urls.websocket) return `${urls.websocket}?generationId=${encodeURIComponent(generationId)}`;
  return `${urls.api.replace(/^http/, 'ws')}/api/generations/${generationId}/preview/logs`;
}

function migrationStatus(record: PreviewRecord): LaunchResponse['database']['migrationStatus'] {
  if (record.dbType === 'none' || !record.autoMigrateDatabase) return 'not_required';
  if (record.failure?.step === 'migrate' || record.failure?.step === 'seed') return 'failed';
  return record.timeline.some((s) => s.step === 'migrations' && s.endedAt) ? 'completed' : 'pending';
}

function databaseReady(record: PreviewRecord): boolean {
  return record.dbType !== 'none' && record.timeline.some((s) => s.step === 'database' && s.endedAt);
}

export function extensionsRemaining(record: PreviewRecord): number {
  return Math.max(0, record.maxExtensions - record.extensionsUsed);
}

export function launchView(record: PreviewRecord, urls: PreviewUrls, previewToken?: string): LaunchResponse {
  return {
    status: record.status,
    previewInstanceId: record.previewId,
    baseUrl: previewBaseUrl(urls, record.generationId),
    wsUrl: previewWsUrl(urls, record.generationId),
    ...(previewToken === undefined ? {} : { previewToken }),
    resourceAllocated: {
      memory: formatMemory(record.resources.memoryMb),
      cpu: formatCpu(record.resources.cpu),
      storage: `${record.resources.storageGb}GB`,
    },
    database: { type: record.dbType, ready: databaseReady(record), migrationStatus: migrationStatus(record) },
    expiresAt: record.expiresAt ?? null,
    sessionDuration: record.sessionSeconds,
    canExtend: extensionsRemaining(record) > 0,
    extensionsRemaining: extensionsRemaining(record),
  };
}

function secondsBetween(from: string, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - Date.parse(from)) / 1000));
}

const healthByStatus: Partial<Record<PreviewRecord['status'], StatusResponse['health']['status']>> = {
  healthy: 'healthy',
  degraded: 'degraded',
  unhealthy: 'unhealthy',
};

/** What has been measured of a preview: the latest resource sample and its requests so far. */
export interface Measurements {
  readonly resources: ResourceSample | undefined;
  readonly requests: RequestTotals;
}

const mb = 1024 * 1024;

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

function milliseconds(value: number | undefined): string | null {
  return value === undefined ? null : `${Math.round(value)}ms`;
}

/** Requested (the tier's) and applied limits, and why they differ. */
export function limitsView(record: PreviewRecord) {
  const applied = appliedLimits(record);
  return {
    requested: { memory: formatMemory(record.resources.memoryMb), cpu: formatCpu(record.resources.cpu) },
    applied: { memory: formatMemory(applied.memoryMb), cpu: formatCpu(applied.cpu) },
    reason: applied.reason ?? null,
  };
}

/**
 * The status document from what is stored and measured. What has not been measured is null,
 * never invented.
 */
export function statusView(
  record: PreviewRecord,
  urls: PreviewUrls,
  now: Date,
  measured: Measurements,
): StatusResponse {
  const live = record.status !== 'stopped' && record.status !== 'failed';
  const serving = isServing(record.status);
  const remaining = record.expiresAt
    ? Math.max(0, Math.floor((Date.parse(record.expiresAt) - now.getTime()) / 1000))
    : null;
  const sample = serving ? measured.resources : undefined;
  const { requests } = measured;
  const applied = appliedLimits(record);
  return {
    previewInstanceId: record.previewId,
    status: record.status,
    statusReason: record.statusReason ?? null,
    containerStatus: serving ? 'running' : record.startedAt ? 'exited' : null,
    baseUrl: previewBaseUrl(urls, record.generationId),
    uptime: live && record.startedAt ? secondsBetween(record.startedAt, now) : null,
    health: {
      status: healthByStatus[record.status] ?? 'unknown',
      checks:
        serving && record.health
          ? record.health.checks.map((check) => ({ ...check, lastCheck: record.health?.checkedAt }))
          : [],
    },
    resources: {
      memory: {
        allocated: formatMemory(applied.memoryMb),
        used: sample ? `${Math.round(sample.memoryUsedBytes / mb)}MB` : null,
        percent: sample ? percent(sample.memoryUsedBytes, applied.memoryMb * mb) : null,
      },
      cpu: {
        allocated: formatCpu(applied.cpu),
        used: sample ? Math.round(sample.cpuCores * 1000) / 1000 : null,
        percent: sample ? percent(sample.cpuCores, applied.cpu) : null,
      },
      storage: {
        allocated: `${record.resources.storageGb}GB`,
        used: sample?.storageUsedBytes === undefined ? null : formatBytes(sample.storageUsedBytes),
        percent:
          sample?.storageUsedBytes === undefined
            ? null
            : percent(sample.storageUsedBytes, allowanceBytes(record.resources.storageGb)),
      },
      limits: limitsView(record),
    },
    performance: {
      requestCount: requests.requests,
      errorCount: requests.errors,
      errorRate: `${requests.requests > 0 ? Math.round((requests.errors / requests.requests) * 10000) / 100 : 0}%`,
      avgResponseTime:
        requests.requests > 0 ? milliseconds(requests.durationSumMs / requests.requests) : null,
      p95ResponseTime: milliseconds(quantile(requests.sketch, 0.95)),
    },
    database: {
      type: record.dbType,
      status:
        record.dbType === 'none' ? 'not_used' : databaseReady(record) && serving ? 'connected' : 'pending',
      migrationStatus: migrationStatus(record),
      tables: null,
      records: null,
    },
    expiresAt: record.expiresAt ?? null,
    timeRemaining: remaining,
    canExtend: live && extensionsRemaining(record) > 0,
    extensionsRemaining: extensionsRemaining(record),
    generatedEndpoints: [],
    // The spec's steps first, then the service's own (`kind: "service"`), each in the order it started.
    timeline: [...record.timeline, ...(record.launchTrace ?? [])].map((step) => ({
      ...step,
      ...(step.endedAt ? { durationMs: Date.parse(step.endedAt) - Date.parse(step.startedAt) } : {}),
    })),
    failure: record.failure ? redactedFailure(record.failure) : null,
  };
}
