import type { z } from 'zod';
import type * as api from '#core/api-schemas.js';

/**
 * One example per request and answer of the OpenAPI document. Each is typed by the schema it
 * illustrates, so an example that no longer fits its schema fails the type check;
 * test/unit/handlers/openapi-document.test.ts also parses each with its schema.
 */

const generationId = 'todo-api';
const previewInstanceId = 'preview_0mx79owaxef900eab1ec7d69e';
const baseUrl = `https://api.example.com/prod/api/generations/${generationId}/preview/proxy`;
const mb = 1024 * 1024;

export const launchRequestExample: z.input<typeof api.launchRequestSchema> = {
  databaseType: 'postgresql',
  resourceTier: 'free',
  autoMigrateDatabase: true,
};

const launched: z.output<typeof api.launchResponseSchema> = {
  status: 'requested',
  previewInstanceId,
  baseUrl,
  wsUrl: `wss://ws.example.com/prod?generationId=${generationId}`,
  resourceAllocated: {
    memory: '512MB',
    memoryBytes: 512 * mb,
    cpu: '0.5 cores',
    cpuCores: 0.5,
    storage: '1GB',
    storageBytes: 1024 * mb,
  },
  database: { type: 'postgresql', ready: false, migrationStatus: 'pending' },
  expiresAt: null,
  sessionDuration: 7200,
  canExtend: true,
  extensionsRemaining: 3,
};

export const launchAcceptedExample: z.output<typeof api.launchResponseSchema> = {
  ...launched,
  previewToken: 'pvt_3kq9d0c6b2f14e7a9c1d5e8f0a2b4c6d',
};

export const launchExistingExample: z.output<typeof api.launchResponseSchema> = {
  ...launched,
  status: 'healthy',
  database: { type: 'postgresql', ready: true, migrationStatus: 'completed' },
  expiresAt: '2026-10-20T14:30:00.000Z',
};

export const statusExample: z.output<typeof api.statusResponseSchema> = {
  previewInstanceId,
  status: 'healthy',
  statusReason: null,
  containerStatus: 'running',
  baseUrl,
  uptime: 3600,
  health: {
    status: 'healthy',
    checks: [
      { name: 'http', status: 'passing', lastCheck: '2026-10-20T12:20:15.000Z', message: '200 in 9ms' },
      { name: 'database', status: 'passing', lastCheck: '2026-10-20T12:20:15.000Z', message: 'Connected' },
      {
        name: 'memory',
        status: 'passing',
        lastCheck: '2026-10-20T12:20:15.000Z',
        usage: '45%',
        usagePercent: 45,
      },
    ],
  },
  resources: {
    memory: {
      allocated: '512MB',
      allocatedBytes: 512 * mb,
      used: '230MB',
      usedBytes: 230 * mb,
      percent: 44.9,
    },
    cpu: { allocated: '0.5 cores', allocatedCores: 0.5, used: 0.35, usedCores: 0.35, percent: 70 },
    storage: {
      allocated: '1GB',
      allocatedBytes: 1024 * mb,
      used: '350MB',
      usedBytes: 350 * mb,
      percent: 34.2,
    },
    limits: {
      requested: { memory: '512MB', memoryBytes: 512 * mb, cpu: '0.5 cores', cpuCores: 0.5 },
      applied: { memory: '512MB', memoryBytes: 512 * mb, cpu: '0.5 cores', cpuCores: 0.5 },
      reason: null,
    },
  },
  performance: {
    requestCount: 1250,
    errorCount: 3,
    errorRate: '0.24%',
    errorRatePercent: 0.24,
    avgResponseTime: '125ms',
    avgResponseTimeMs: 125,
    p95ResponseTime: '450ms',
    p95ResponseTimeMs: 450,
  },
  database: {
    type: 'postgresql',
    status: 'connected',
    migrationStatus: 'completed',
    tables: 2,
    records: 5,
    countedAt: '2026-10-20T11:21:00.000Z',
    notCountedReason: null,
  },
  expiresAt: '2026-10-20T14:30:00.000Z',
  timeRemaining: 3600,
  canExtend: true,
  extensionsRemaining: 3,
  generatedEndpoints: [
    { method: 'GET', path: '/todos', description: 'List todos', operationId: 'list_todos' },
    { method: 'POST', path: '/todos', description: 'Create a todo', operationId: 'create_todo' },
  ],
  timeline: [
    {
      step: 'build',
      startedAt: '2026-10-20T11:19:00.000Z',
      endedAt: '2026-10-20T11:19:40.000Z',
      durationMs: 40000,
    },
  ],
  failure: null,
};

export const stopExample: z.output<typeof api.stopResponseSchema> = {
  previewInstanceId,
  status: 'stopped',
  stoppedAt: '2026-10-20T12:30:00.000Z',
};

export const previewListExample: z.output<typeof api.listPreviewsResponseSchema> = {
  previews: [
    {
      previewInstanceId,
      generationId,
      projectId: 'todo',
      status: 'healthy',
      tier: 'free',
      createdAt: '2026-10-20T11:19:00.000Z',
      expiresAt: '2026-10-20T14:30:00.000Z',
    },
  ],
  quota: { tier: 'free', limit: 3, used: 1, remaining: 2 },
};

export const eventsExample: z.output<typeof api.eventsResponseSchema> = {
  events: [
    {
      eventId: 'evt_01',
      type: 'launched',
      timestamp: '2026-10-20T11:19:00.000Z',
      actor: { type: 'user', id: 'user_123' },
    },
  ],
  nextToken: 'eyJvZmZzZXQiOjUwfQ',
};

export const appEndpointsExample: z.output<typeof api.appEndpointsResponseSchema> = {
  generationId,
  source: '/openapi.json',
  endpoints: [{ method: 'GET', path: '/todos', description: 'List todos', operationId: 'list_todos' }],
};

export const testRequestExample: z.input<typeof api.testRequestSchema> = {
  method: 'POST',
  path: '/todos',
  headers: { 'content-type': 'application/json' },
  body: { title: 'Buy milk' },
};

export const testResponseExample: z.output<typeof api.testResponseSchema> = {
  statusCode: 201,
  headers: { 'content-type': 'application/json' },
  body: { id: 1, title: 'Buy milk', done: false },
  durationMs: 9.4,
};

export const configExample: z.output<typeof api.configResponseSchema> = {
  previewInstanceId,
  tier: 'free',
  limits: {
    memory: '512MB',
    memoryMb: 512,
    cpu: '0.5 cores',
    cpuCores: 0.5,
    storage: '1GB',
    storageBytes: 1024 * mb,
    requested: { memory: '512MB', memoryBytes: 512 * mb, cpu: '0.5 cores', cpuCores: 0.5 },
    applied: { memory: '512MB', memoryBytes: 512 * mb, cpu: '0.5 cores', cpuCores: 0.5 },
    reason: null,
  },
  database: {
    type: 'postgresql',
    autoMigrate: true,
    migrationCommand: 'alembic upgrade head',
    seedCommand: null,
    url: 'set in DATABASE_URL (password hidden)',
    environment: { DATABASE_URL: 'postgresql://app:***@database:5432/app' },
  },
  healthCheck: { endpoint: '/health', intervalSeconds: 30 },
  entryPoint: 'uvicorn app.main:app --port 8000',
  command: 'uvicorn app.main:app --port 8000 --host 0.0.0.0',
  commandChanges: ['added --host 0.0.0.0'],
  listenEnvironment: { PORT: '8000', HOST: '0.0.0.0' },
  port: 8000,
  openapiPath: '/openapi.json',
  env: { LOG_LEVEL: 'info', SECRET_KEY: '***' },
  dockerfile: { path: 'Dockerfile', generated: false },
  databaseSnapshots: {
    enabled: true,
    maxCount: 20,
    maxAgeHours: 168,
    snapshots: [{ key: '5f0c1e…', createdAt: '2026-10-20T11:21:00.000Z', sizeBytes: 48_234_496 }],
  },
  generatedDockerfile: null,
};

const logLine: z.output<typeof api.logLineSchema> = {
  timestamp: '2026-10-20T12:20:15.000Z',
  level: 'INFO',
  source: 'request',
  message: 'GET /todos completed in 45ms',
  metadata: { method: 'GET', path: '/todos', statusCode: 200, duration: 45 },
  cursor: '1760962815000-0',
};

export const logsExample: z.output<typeof api.logsResponseSchema> = {
  previewInstanceId,
  logs: [logLine],
  nextToken: 'eyJhZnRlciI6IjE3NjA5NjI4MTUwMDAtMCJ9',
};

export const logExportJsonExample = [logLine];

export const logExportCsvExample =
  'timestamp,level,source,message\n2026-10-20T12:20:15.000Z,INFO,request,GET /todos completed in 45ms\n';

export const logExportLinkExample: z.output<typeof api.logExportLinkSchema> = {
  url: 'https://exports.example.com/todo-api-logs.json.gz?X-Amz-Signature=…',
  expiresAt: '2026-10-20T13:20:15.000Z',
  bytes: 5_242_880,
};

export const extendRequestExample: z.input<typeof api.extendRequestSchema> = { duration: 1800 };

export const extendExample: z.output<typeof api.extendResponseSchema> = {
  status: 'extended',
  newExpiresAt: '2026-10-20T15:00:00.000Z',
  extensionsRemaining: 2,
  maxExtensions: 3,
};

export const rotatedTokenExample: z.output<typeof api.rotatedTokenResponseSchema> = {
  previewInstanceId,
  previewToken: 'pvt_9f8e7d6c5b4a39281706f5e4d3c2b1a0',
};

export const metricsExample: z.output<typeof api.metricsResponseSchema> = {
  previewInstanceId,
  start: '2026-10-20T11:20:00.000Z',
  end: '2026-10-20T12:20:00.000Z',
  period: 60,
  metrics: {
    memory: [{ timestamp: '2026-10-20T12:19:00.000Z', value: 230 }],
    cpu: [{ timestamp: '2026-10-20T12:19:00.000Z', value: 0.35 }],
    responseTime: [{ timestamp: '2026-10-20T12:19:00.000Z', value: 125, p95: 450, p99: 610, requests: 120 }],
    errors: [{ timestamp: '2026-10-20T12:19:00.000Z', count: 1, type: '5xx' }],
    clientErrors: [{ timestamp: '2026-10-20T12:19:00.000Z', count: 2 }],
  },
};

const comparedMeasure = {
  requestCount: 100,
  errorCount: 2,
  errorRate: '2%',
  errorRatePercent: 2,
  avgResponseTime: '120ms',
  avgResponseTimeMs: 120,
  p95ResponseTime: '400ms',
  p95ResponseTimeMs: 400,
};

export const compareExample: z.output<typeof api.compareResponseSchema> = {
  base: { generationId, version: '1', previewInstanceId, apiVersion: '1.0.0' },
  other: {
    generationId: 'todo-api-v2',
    version: '2',
    previewInstanceId: 'preview_0mx7a1bcdef900eab1ec7d6a0',
    apiVersion: '1.1.0',
  },
  comparison: {
    endpoints: {
      added: [{ method: 'DELETE', path: '/todos/{id}' }],
      removed: [],
      modified: [{ method: 'POST', path: '/todos', changes: ['requestBody'], models: ['TodoIn'] }],
    },
    models: {
      added: [],
      removed: [],
      modified: [
        {
          name: 'TodoIn',
          fields: {
            added: [{ name: 'due', type: 'string', required: false }],
            removed: [],
            changed: [],
          },
          definitionChanged: false,
        },
      ],
    },
    performance: {
      available: true,
      avgResponseTimeChange: '-15%',
      avgResponseTimeChangePercent: -15,
      errorRateChange: '-50%',
      errorRateChangePercent: -50,
      p95ResponseTimeChange: '+5%',
      p95ResponseTimeChangePercent: 5,
      base: comparedMeasure,
      other: {
        ...comparedMeasure,
        errorCount: 1,
        errorRate: '1%',
        errorRatePercent: 1,
        avgResponseTime: '102ms',
        avgResponseTimeMs: 102,
        p95ResponseTime: '420ms',
        p95ResponseTimeMs: 420,
      },
    },
  },
};

export const asyncApiDocumentExample: z.output<typeof api.asyncApiDocumentSchema> = {
  asyncapi: '3.1.0',
  info: { title: 'Preview live stream', version: '1.0.0' },
  channels: { previewLogs: { address: '/api/generations/{generationId}/preview/logs' } },
};

export const openApiDocumentExample: z.output<typeof api.openApiDocumentSchema> = {
  openapi: '3.1.0',
  info: { title: 'Preview service', version: '1.0.0' },
  paths: { '/api/previews': { get: { operationId: 'list-previews' } } },
};
