import { z } from 'zod';
import { isServing } from '../lifecycle.js';
import type { testRequestSchema } from '../api-schemas.js';
import {
  appPath,
  forwardedRequestHeaders,
  forwardedResponseHeaders,
  isTextContent,
  proxyLimits,
  queryString,
  type AppHttpClient,
  type AppResponse,
} from '../app-request.js';
import { AppError } from '../errors.js';
import { tokenMatches } from '../ids.js';
import { parseJson } from '../json-input.js';
import { isSecretName, redactSecrets } from '../log-redaction.js';
import type { Clock } from '../clock.js';
import type { SnapshotListing } from '../database-snapshots.js';
import type { Generation } from '../generation.js';
import { apiEndpoints } from '../openapi-endpoints.js';
import type { OpenApiDocument } from '../openapi-schema.js';
import type { GenerationStore } from '../ports.js';
import type { RequestRecorder } from '../request-recorder.js';
import { serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { Identity, PreviewRecord } from '../preview.js';
import { bindEntryPoint, listenEnvironment } from '../app-binding.js';
import { limitsView } from '../preview-views.js';
import { allowanceBytes } from '../storage-allowance.js';
import { appliedLimits } from '../resource-fit.js';
import { databaseEnvironment } from '../task-definition.js';
import { formatCpu, formatMemory } from '../tiers.js';
import type { PreviewService } from './preview-service.js';

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: Buffer;
  /** When the caller presents the preview token too, it must be the current one. */
  readonly previewToken?: string;
  /** False for the service's own reads (comparing versions): not the user's traffic, so not measured. */
  readonly metered?: boolean;
}

const openApiDocument = z.looseObject({
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** Talks to a preview's app on the user's behalf: the only path from outside to a preview. */
export class PreviewProxy {
  constructor(
    private readonly deps: {
      readonly service: PreviewService;
      readonly generations: GenerationStore;
      readonly client: AppHttpClient;
      /** Where every proxied request is counted. */
      readonly requests: Pick<RequestRecorder, 'record'>;
      readonly clock: Clock;
      /** Counts the apps' own 5xx answers, apart from the service's. */
      readonly serviceMetrics?: ServiceMetrics;
      /** Listed by `config`: the generation's database snapshots and how long they are kept. */
      readonly databaseSnapshots?: SnapshotListing;
    },
  ) {}

  async forward(identity: Identity, generationId: string, request: ProxiedRequest): Promise<AppResponse> {
    const record = await this.servingPreview(identity, generationId, request.previewToken);
    const target = `${appPath(request.path)}${queryString(request.query)}`;
    const at = this.deps.clock.now();
    const started = performance.now();
    const bytesIn = request.body?.length ?? 0;
    let response: AppResponse;
    try {
      response = await this.deps.client.send(
        record.endpoint as NonNullable<PreviewRecord['endpoint']>,
        {
          method: request.method,
          target,
          headers: forwardedRequestHeaders(request.headers),
          ...(bytesIn > 0 ? { body: request.body } : {}),
        },
        proxyLimits,
      );
    } catch (error) {
      const reason = error instanceof AppError ? error.details?.reason : undefined;
      if (request.metered !== false)
        await this.deps.requests.record(record.previewId, {
          at,
          statusCode: undefined,
          durationMs: performance.now() - started,
          bytesIn,
          bytesOut: 0,
          errorType: typeof reason === 'string' ? reason : 'unreachable',
        });
      throw error;
    }
    if (request.metered !== false && response.statusCode >= 500) {
      this.deps.serviceMetrics?.count(serviceMetricNames.appServerErrors);
    }
    if (request.metered !== false)
      await this.deps.requests.record(record.previewId, {
        at,
        statusCode: response.statusCode,
        durationMs: response.durationMs,
        bytesIn,
        bytesOut: response.body.length,
      });
    return { ...response, headers: forwardedResponseHeaders(response.headers) };
  }

  /** One test request, answered as data: JSON bodies parsed, text as text, binary as base64. */
  async testRequest(identity: Identity, generationId: string, request: z.infer<typeof testRequestSchema>) {
    const headers = { ...request.headers };
    let body: Buffer | undefined;
    if (request.body !== undefined) {
      const isText = typeof request.body === 'string';
      body = Buffer.from(isText ? (request.body as string) : JSON.stringify(request.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = isText ? 'text/plain' : 'application/json';
      }
    }
    const response = await this.forward(identity, generationId, {
      method: request.method,
      path: request.path,
      ...(request.query ? { query: request.query } : {}),
      headers,
      ...(body ? { body } : {}),
    });
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: responseBody(response),
      durationMs: Math.round(response.durationMs * 10) / 10,
    };
  }

  /** The app's endpoints, from the OpenAPI document it serves. */
  async endpoints(identity: Identity, generationId: string) {
    const source = await this.deps.generations.load(generationId);
    if (!source) throw new AppError('not_found', `Generation ${generationId} was not found.`);
    const document = await this.openApiDocument(identity, source.generation);
    return { generationId, source: source.generation.openapiPath, endpoints: apiEndpoints(document) };
  }

  /** The OpenAPI document the app serves at its generation's `openapiPath`, parsed. */
  async openApiDocument(
    identity: Identity,
    generation: Generation,
    options: { readonly metered?: boolean } = {},
  ): Promise<OpenApiDocument> {
    const response = await this.forward(identity, generation.id, {
      method: 'GET',
      path: generation.openapiPath,
      headers: { accept: 'application/json' },
      ...(options.metered === false ? { metered: false } : {}),
    });
    const json = parseJson(response.body.toString('utf8'));
    const result = json.ok ? openApiDocument.safeParse(json.value) : undefined;
    const parsed: OpenApiDocument | undefined = result?.success ? result.data : undefined;
    if (response.statusCode !== 200 || !parsed) {
      throw new AppError(
        'unavailable',
        `The app does not serve an OpenAPI document at ${generation.openapiPath} (status ${response.statusCode}).`,
      );
    }
    return parsed;
  }

  /**
   * What the preview runs with: limits, database, health check, environment with secrets hidden,
   * and the Dockerfile's text when it was generated from generation.json.
   */
  async config(identity: Identity, generationId: string) {
    const record = await this.deps.service.ownedPreview(identity, generationId);
    const source = await this.deps.generations.load(generationId);
    if (!source) throw new AppError('not_found', `Generation ${generationId} was not found.`);
    const generation = source.generation;
    const env = Object.fromEntries(
      // A secret's name hides the whole value; others lose what looks secret (a URL's password).
      Object.entries(generation.env).map(([name, value]) => [
        name,
        isSecretName(name) ? '***' : redactSecrets(value),
      ]),
    );
    const applied = appliedLimits(record);
    const bound = bindEntryPoint(generation.entryPoint, generation.port);
    return {
      previewInstanceId: record.previewId,
      tier: record.tier,
      limits: {
        memory: formatMemory(applied.memoryMb),
        memoryMb: applied.memoryMb,
        cpu: formatCpu(applied.cpu),
        cpuCores: applied.cpu,
        storage: `${record.resources.storageGb}GB`,
        storageBytes: allowanceBytes(record.resources.storageGb),
        ...limitsView(record),
      },
      database: {
        type: record.dbType,
        autoMigrate: record.autoMigrateDatabase,
        migrationCommand: generation.requiresMigrations ? (generation.migrationCommand ?? null) : null,
        seedCommand: generation.seedDataIncluded ? (generation.seedCommand ?? null) : null,
        url: record.dbType === 'none' ? null : 'set in DATABASE_URL (password hidden)',
        // The password is made per task and never stored: shown as *** wherever it appears.
        environment: databaseEnvironment(record.dbType, '***'),
      },
      healthCheck: {
        endpoint: generation.healthCheckEndpoint,
        intervalSeconds: generation.healthCheckInterval,
      },
      entryPoint: generation.entryPoint,
      command: bound.command,
      commandChanges: bound.changes,
      listenEnvironment: listenEnvironment(generation.port, generation.env),
      port: generation.port,
      openapiPath: generation.openapiPath,
      env,
      dockerfile: { path: generation.dockerfile, generated: source.generatedDockerfile !== undefined },
      generatedDockerfile: source.generatedDockerfile ?? null,
      databaseSnapshots: await this.snapshotsOf(generationId),
    };
  }

  /** The generation's database snapshots, newest first, and the eviction settings. */
  private async snapshotsOf(generationId: string) {
    const settings = this.deps.databaseSnapshots;
    if (!settings) return { enabled: false, maxCount: null, maxAgeHours: null, snapshots: [] };
    const snapshots = await settings.store.list(generationId);
    return {
      enabled: true,
      maxCount: settings.maxCount,
      maxAgeHours: settings.maxAgeSeconds / 3600,
      snapshots: snapshots.map((s) => ({
        key: s.key,
        createdAt: s.createdAt,
        ...(s.sizeBytes === undefined ? {} : { sizeBytes: s.sizeBytes }),
      })),
    };
  }

  private async servingPreview(identity: Identity, generationId: string, previewToken: string | undefined) {
    const record = await this.deps.service.ownedPreview(identity, generationId);
    if (previewToken !== undefined && !tokenMatches(previewToken, record.tokenHash)) {
      throw new AppError('forbidden', 'The preview token is not the current one for this preview.');
    }
    if (!isServing(record.status) || !record.endpoint) {
      throw new AppError(
        'preview_not_running',
        `The preview is ${record.status}; it can take requests once it is running.`,
        { status: record.status },
      );
    }
    return record;
  }
}

function responseBody(response: AppResponse): unknown {
  const contentType = response.headers['content-type'];
  if (!isTextContent(contentType)) return { base64: response.body.toString('base64') };
  const text = response.body.toString('utf8');
  if (/json/i.test(contentType ?? '')) {
    // Invalid or too deeply nested JSON is answered as the text it is.
    const parsed = parseJson(text);
    return parsed.ok ? parsed.value : text;
  }
  return text;
}
