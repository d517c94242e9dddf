import type { LaunchResponse, StatusResponse } from './api-schemas.js';
import { databaseContents } from './database-count.js';
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
      ...memoryLimit(record.resources.memoryMb),
      ...cpuLimit(record.resources.cpu),
      storage: `${record.resources.storageGb}GB`,
      storageBytes: allowanceBytes(record.resources.storageGb),
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

/** The preview's health as REST and the live stream show it: its checks only while it is serving. */
export function healthView(record: PreviewRecord): StatusResponse['health'] {
  const checked = isServing(record.status) ? record.health : undefined;
  return {
    status: healthByStatus[record.status] ?? 'unknown',
    checks: checked ? checked.checks.map((check) => ({ ...check, lastCheck: checked.checkedAt })) : [],
  };
}

/** What has been measured of a preview: the latest resource sample and its requests so far. */
export interface Measurements {
  readonly resources: ResourceSample | undefined;
  readonly requests: RequestTotals;
  /** The runtime, and whether it counts databases (absent: none is configured). */
  readonly databaseCounter?: { readonly kind: string; readonly counts: boolean };
}

const mb = 1024 * 1024;

/*
 * Every figure the spec shows as text (`"512MB"`, `"125ms"`, `"0.24%"`) keeps that text, with the
 * number beside it under a name that says its unit: `…Bytes`, `…Cores`, `…Ms`, `…Percent`.
 */

/** A memory limit as shown (`512MB`) and in bytes. */
function memoryLimit(memoryMb: number) {
  return { memory: formatMemory(memoryMb), memoryBytes: memoryMb * mb };
}

/** A CPU limit as shown (`0.5 cores`) and in cores. */
function cpuLimit(cores: number) {
  return { cpu: formatCpu(cores), cpuCores: cores };
}

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

/** A duration rounded to the millisecond: `{ text: "9ms", ms: 9 }`, or nulls when unmeasured. */
function milliseconds(value: number | undefined): { text: string | null; ms: number | null } {
  if (value === undefined) return { text: null, ms: null };
  const ms = Math.round(value);
  return { text: `${ms}ms`, ms };
}

/** Requested (the tier's) and applied limits, and why they differ. */
export function limitsView(record: PreviewRecord) {
  const applied = appliedLimits(record);
  return {
    requested: { ...memoryLimit(record.resources.memoryMb), ...cpuLimit(record.resources.cpu) },
    applied: { ...memoryLimit(applied.memoryMb), ...cpuLimit(applied.cpu) },
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
  const memoryUsedMb = sample ? Math.round(sample.memoryUsedBytes / mb) : undefined;
  const cpuUsedCores = sample ? Math.round(sample.cpuCores * 1000) / 1000 : null;
  const storageUsedBytes = sample?.storageUsedBytes;
  const storageAllowance = allowanceBytes(record.resources.storageGb);
  const errorRatePercent =
    requests.requests > 0 ? Math.round((requests.errors / requests.requests) * 10000) / 100 : 0;
  const average = milliseconds(
    requests.requests > 0 ? requests.durationSumMs / requests.requests : undefined,
  );
  const p95 = milliseconds(quantile(requests.sketch, 0.95));
  return {
    previewInstanceId: record.previewId,
    status: record.status,
    statusReason: record.statusReason ?? null,
    containerStatus: serving ? 'running' : record.startedAt ? 'exited' : null,
    baseUrl: previewBaseUrl(urls, record.generationId),
    uptime: live && record.startedAt ? secondsBetween(record.startedAt, now) : null,
    health: healthView(record),
    resources: {
      memory: {
        allocated: formatMemory(applied.memoryMb),
        allocatedBytes: applied.memoryMb * mb,
        used: memoryUsedMb === undefined ? null : `${memoryUsedMb}MB`,
        usedBytes: sample ? sample.memoryUsedBytes : null,
        percent: sample ? percent(sample.memoryUsedBytes, applied.memoryMb * mb) : null,
      },
      cpu: {
        allocated: formatCpu(applied.cpu),
        allocatedCores: applied.cpu,
        // The spec shows CPU use as a number of cores already; `usedCores` names its unit like the others.
        used: cpuUsedCores,
        usedCores: cpuUsedCores,
        percent: sample ? percent(sample.cpuCores, applied.cpu) : null,
      },
      storage: {
        allocated: `${record.resources.storageGb}GB`,
        allocatedBytes: storageAllowance,
        used: storageUsedBytes === undefined ? null : formatBytes(storageUsedBytes),
        usedBytes: storageUsedBytes ?? null,
        percent: storageUsedBytes === undefined ? null : percent(storageUsedBytes, storageAllowance),
      },
      limits: limitsView(record),
    },
    performance: {
      requestCount: requests.requests,
      errorCount: requests.errors,
      errorRate: `${errorRatePercent}%`,
      errorRatePercent,
      avgResponseTime: average.text,
      avgResponseTimeMs: average.ms,
      p95ResponseTime: p95.text,
      p95ResponseTimeMs: p95.ms,
    },
    database: {
      type: record.dbType,
      status:
        record.dbType === 'none' ? 'not_used' : databaseReady(record) && serving ? 'connected' : 'pending',
      migrationStatus: migrationStatus(record),
      ...databaseContents(record, measured.databaseCounter),
    },
    expiresAt: record.expiresAt ?? null,
    timeRemaining: remaining,
    canExtend: live && extensionsRemaining(record) > 0,
    extensionsRemaining: extensionsRemaining(record),
    generatedEndpoints: [...(record.generatedEndpoints ?? [])],
    // The spec's steps first, then the service's own (`kind: "service"`), each in the order it started.
    timeline: [...record.timeline, ...(record.launchTrace ?? [])].map((step) => ({
      ...step,
      ...(step.endedAt ? { durationMs: Date.parse(step.endedAt) - Date.parse(step.startedAt) } : {}),
    })),
    failure: record.failure ? redactedFailure(record.failure) : null,
  };
}
