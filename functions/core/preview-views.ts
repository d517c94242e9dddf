import type { LaunchResponse, StatusResponse } from './api-schemas.js';
import type { PreviewRecord } from './preview.js';
import { formatCpu, formatMemory } from './tiers.js';

/** Client-facing shapes of a stored preview (seed §1 and §2). */

export interface PreviewUrls {
  /** Base URL of the API, e.g. `https://api.example.com/prod` or `http://127.0.0.1:3000`. */
  readonly api: string;
  /** Base URL of the WebSocket endpoint, before the per-generation path and query. */
  readonly websocket: string | undefined;
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

/**
 * The status document from what is stored. Measurements the service has not taken are null,
 * never invented; the runtime and metrics modules fill them in when they have them.
 */
export function statusView(record: PreviewRecord, urls: PreviewUrls, now: Date): StatusResponse {
  const live = record.status !== 'stopped' && record.status !== 'failed';
  const remaining = record.expiresAt
    ? Math.max(0, Math.floor((Date.parse(record.expiresAt) - now.getTime()) / 1000))
    : null;
  const usage = (allocated: string) => ({ allocated, used: null, percent: null });
  return {
    previewInstanceId: record.previewId,
    status: record.status,
    statusReason: record.statusReason ?? null,
    containerStatus: null,
    baseUrl: previewBaseUrl(urls, record.generationId),
    uptime: live && record.startedAt ? secondsBetween(record.startedAt, now) : null,
    health: { status: healthByStatus[record.status] ?? 'unknown', checks: [] },
    resources: {
      memory: usage(formatMemory(record.resources.memoryMb)),
      cpu: usage(formatCpu(record.resources.cpu)),
      storage: usage(`${record.resources.storageGb}GB`),
    },
    performance: {
      requestCount: 0,
      errorCount: 0,
      errorRate: '0%',
      avgResponseTime: null,
      p95ResponseTime: null,
    },
    database: {
      type: record.dbType,
      status: record.dbType === 'none' ? 'not_used' : databaseReady(record) && live ? 'connected' : 'pending',
      migrationStatus: migrationStatus(record),
      tables: null,
      records: null,
    },
    expiresAt: record.expiresAt ?? null,
    timeRemaining: remaining,
    canExtend: live && extensionsRemaining(record) > 0,
    extensionsRemaining: extensionsRemaining(record),
    generatedEndpoints: [],
    timeline: record.timeline.map((step) => ({
      ...step,
      ...(step.endedAt ? { durationMs: Date.parse(step.endedAt) - Date.parse(step.startedAt) } : {}),
    })),
    failure: record.failure ? { ...record.failure, lastLines: record.failure.lastLines?.slice() } : null,
  };
}
