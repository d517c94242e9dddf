import { dynamoDocumentClient, ecr, s3, ssm } from '#adapters/aws/clients.js';
import { EcrSnapshotImages } from '#adapters/aws/ecr-snapshot-images.js';
import { ssmMaintenanceSwitch } from '#adapters/aws/ssm-maintenance-switch.js';
import { powertoolsServiceMetrics } from '#adapters/aws/powertools-service-metrics.js';
import { ecsRuntime } from '#adapters/aws/ecs-runtime.js';
import { DynamoDbEventStore } from '#adapters/aws/dynamodb-event-store.js';
import { DynamoDbMetricsStore } from '#adapters/aws/dynamodb-metrics-store.js';
import { DynamoDbPreviewStore } from '#adapters/aws/dynamodb-preview-store.js';
import { DynamoDbQuotaStore } from '#adapters/aws/dynamodb-quota-store.js';
import { S3GenerationStore } from '#adapters/aws/s3-generation-store.js';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { CachedMetricsStore } from '#core/cached-metrics-store.js';
import { CachedPreviewStore } from '#core/cached-preview-store.js';
import { systemClock, type Clock } from '#core/clock.js';
import { loadAuthorizerConfig, loadConfig, type AuthorizerConfig, type Config } from '#core/config.js';
import { fixedMaintenanceSwitch, type MaintenanceSwitch } from '#core/maintenance.js';
import type { DatabaseSnapshotSettings, SnapshotListing } from '#core/database-snapshots.js';
import type { GenerationStore, LaunchStarter } from '#core/ports.js';
import { PreviewLauncher } from '#core/services/preview-launcher.js';
import { PreviewMetrics } from '#core/services/preview-metrics.js';
import { PreviewProxy } from '#core/services/preview-proxy.js';
import { PreviewService } from '#core/services/preview-service.js';
import { PreviewStateMachine } from '#core/services/preview-state-machine.js';
import { HealthMonitor } from '#core/services/health-monitor.js';
import { PreviewSweeper } from '#core/services/preview-sweeper.js';
import { MaintenanceStop } from '#core/services/maintenance-stop.js';
import { ResourceSampler } from '#core/services/resource-sampler.js';
import { VersionComparison } from '#core/services/version-comparison.js';
import { nodeAppHttpClient } from '#adapters/node-app-http-client.js';
import type { PreviewRuntime } from '#core/task-runner.js';
import { RequestRecorder } from '#core/request-recorder.js';
import type { ServiceMetrics } from '#core/service-metrics.js';
import { createTokenVerifier, type TokenVerifier } from '#core/token-verifier.js';
import { awsLogAdapters } from '#adapters/aws/log-adapters.js';
import type { LogAdapters } from '#core/log-ports.js';
import { LogQueries } from '#core/services/log-queries.js';
import { liveServices, type LogServices } from './log-services.js';
import { logger } from './logger.js';

/** Proxied requests are counted in memory and written at most this often (one write, not one per request). */
const requestMetricsFlushMs = 1000;

/**
 * Where this process makes every write to the previews and metrics tables, its reads of a preview
 * and of what `status` shows come from memory (write-aware-cache.ts); the TTL bounds what a write
 * from elsewhere can leave unseen.
 */
const readCache = { ttlMs: 5000, maxEntries: 10_000 } as const;

/** Everything the handlers but the authorizer use, built once per process from the validated environment. */
export interface Services {
  readonly config: Config;
  readonly previews: PreviewService;
  /** Absent where no runtime is configured: launching then answers 501. */
  readonly launcher: PreviewLauncher | undefined;
  readonly proxy: PreviewProxy;
  /** Time series of a preview's resources and requests. */
  readonly metrics: PreviewMetrics;
  /** Two versions' API contracts, models and measured performance, compared. */
  readonly comparison: VersionComparison;
  /** Reads resource use where the runtime can (Docker, processes). */
  readonly sampler: ResourceSampler | undefined;
  readonly monitor: HealthMonitor | undefined;
  readonly sweeper: PreviewSweeper | undefined;
  /** Stops every live preview while the stage is in maintenance (with each sweep). */
  readonly maintenanceStop: MaintenanceStop | undefined;
  readonly serviceMetrics: ServiceMetrics;
  /** Logs and the live stream; absent where the environment configures none (they answer 501). */
  readonly logs: LogServices | undefined;
}

/** What a runtime plugs in beyond the environment's defaults (the local runtime, tests). */
export interface ServiceOverrides {
  readonly runtime?: PreviewRuntime;
  /** A starter without a runtime: tests of the API that need no containers. */
  readonly starter?: LaunchStarter;
  readonly generations?: GenerationStore;
  readonly clock?: Clock;
  /** The log pipeline's local stand-ins; AWS services (from the environment) otherwise. */
  readonly logs?: LogAdapters;
  /**
   * True where this process makes every write to the previews and metrics tables (the local
   * runtime), so it may answer reads of them from memory. Never in AWS, where the writers are other
   * functions.
   */
  readonly soleWriter?: boolean;
}

/** The authorizer's whole world: it verifies tokens and counts denials, reading only the stage and the JWT settings. */
export interface AuthorizerServices {
  readonly config: AuthorizerConfig;
  readonly verifier: TokenVerifier;
  readonly serviceMetrics: ServiceMetrics;
}

let overrides: ServiceOverrides = {};
let current: Services | undefined;
let authorizer: AuthorizerServices | undefined;

/** Sets what the next build plugs in; both builds start again from the environment as it is then. */
export function useServiceOverrides(next: ServiceOverrides): void {
  overrides = next;
  current = undefined;
  authorizer = undefined;
}

export function services(): Services {
  current ??= buildServices(loadConfig(), overrides);
  return current;
}

/** Built apart from the service graph: the authorizer needs no store, runtime or log pipeline. */
export function authorizerServices(): AuthorizerServices {
  if (!authorizer) {
    const config = loadAuthorizerConfig();
    authorizer = {
      config,
      verifier: createTokenVerifier(config.jwt),
      serviceMetrics: powertoolsServiceMetrics(config.stage),
    };
  }
  return authorizer;
}

/** The stack's SSM parameter in AWS; the configuration's fixed setting where there is none. */
function maintenanceSwitch(config: Config, clock: Clock): MaintenanceSwitch {
  const { parameter, cacheSeconds, on } = config.maintenance;
  if (!parameter) return fixedMaintenanceSwitch(on);
  return ssmMaintenanceSwitch(ssm(), {
    parameterName: parameter,
    cacheSeconds,
    clock,
    onProblem: (problem, error) => logger.warn(problem, { parameter, error }),
  });
}

function buildServices(config: Config, extra: ServiceOverrides): Services {
  const client = dynamoDocumentClient();
  const clock = extra.clock ?? systemClock;
  const maintenance = maintenanceSwitch(config, clock);
  const serviceMetrics = powertoolsServiceMetrics(config.stage);
  const generations =
    extra.generations ??
    (config.generations.bucket
      ? new S3GenerationStore(s3(), config.generations.bucket, config.generations.prefix)
      : new DirectoryGenerationStore(config.generations.directory));
  const tableStore = new DynamoDbPreviewStore(client, config.tables.previews);
  const previewStore = extra.soleWriter ? new CachedPreviewStore(tableStore, clock, readCache) : tableStore;
  // In AWS the environment chooses ECS; the local runtime passes its own (Docker or processes).
  const runtime =
    extra.runtime ??
    (config.ecs ? ecsRuntime(config.ecs, config.logRetentionDays, config.databaseSnapshots) : undefined);
  const metricsTable = new DynamoDbMetricsStore(client, config.tables.metrics, config.metricsRetentionDays);
  const metrics = extra.soleWriter ? new CachedMetricsStore(metricsTable, clock, readCache) : metricsTable;
  const logAdapters = extra.logs ?? (config.logPipeline ? awsLogAdapters(config.logPipeline) : undefined);
  const live =
    logAdapters && liveServices(logAdapters, { client, config, previews: previewStore, metrics, clock });
  const quotas = new DynamoDbQuotaStore(client, config.tables.quotas);
  const events = new DynamoDbEventStore(client, config.tables.events, config.eventRetentionDays);
  const stateMachine = new PreviewStateMachine({
    previews: previewStore,
    quotas,
    events,
    runner: runtime?.runner,
    clock,
    serviceMetrics,
    notifier: live?.live,
    appConnections: nodeAppHttpClient,
  });
  const previews = new PreviewService({
    stateMachine,
    previews: previewStore,
    quotas,
    events,
    metrics,
    generations,
    allowUnownedGenerations: config.allowUnownedGenerations,
    starter: runtime?.starter ?? extra.starter,
    runner: runtime?.runner,
    tiers: config.tiers,
    urls: { api: config.publicUrl, websocket: config.websocketUrl },
    clock,
    serviceMetrics,
    maintenance,
  });
  const launcherSnapshots: DatabaseSnapshotSettings | undefined =
    runtime?.databaseSnapshots && config.databaseSnapshots.enabled
      ? {
          store: runtime.databaseSnapshots,
          maxCount: config.databaseSnapshots.maxCount,
          maxAgeSeconds: config.databaseSnapshots.maxAgeSeconds,
          onError: (error, context) =>
            logger.warn('a database snapshot could not be looked up, made or evicted', { ...context, error }),
        }
      : undefined;
  const snapshotListing = launcherSnapshots ?? listingOnly(config);
  const launcher =
    runtime &&
    new PreviewLauncher({
      previews: previewStore,
      generations,
      stateMachine,
      imageBuilder: runtime.imageBuilder,
      runner: runtime.runner,
      tiers: config.tiers,
      clock,
      serviceMetrics,
      buildLog: runtime.onBuildLog,
      databaseImages: config.databaseImages,
      maintenance,
      client: nodeAppHttpClient,
      onInternalError: ({ previewId, step, error }) =>
        logger.error('launch failed through an internal error', { previewId, step, error }),
      heartbeatSeconds: config.launchHeartbeatSeconds,
      onHeartbeatError: (error) => logger.warn('launch heartbeat could not be written', { error }),
      ...(launcherSnapshots ? { databaseSnapshots: launcherSnapshots } : {}),
    });
  const proxy = new PreviewProxy({
    service: previews,
    generations,
    client: nodeAppHttpClient,
    requests: new RequestRecorder(metrics, requestMetricsFlushMs, (error) =>
      logger.error('request metrics could not be written', { error }),
    ),
    clock,
    serviceMetrics,
    ...(snapshotListing ? { databaseSnapshots: snapshotListing } : {}),
  });
  const sampler =
    runtime &&
    new ResourceSampler({
      previews: previewStore,
      runner: runtime.runner,
      metrics,
      clock,
      notifier: live?.live,
      stopper: stateMachine,
      databaseCounts: stateMachine,
      databaseCountSeconds: config.databaseCountSeconds,
      concurrency: config.resourceSampleConcurrency,
    });
  const monitor =
    runtime &&
    launcher &&
    new HealthMonitor({
      previews: previewStore,
      stateMachine,
      launcher,
      runner: runtime.runner,
      client: nodeAppHttpClient,
      metrics,
      clock,
      failureThreshold: config.healthFailureThreshold,
      notifier: live?.live,
    });
  const sweeper =
    runtime &&
    launcher &&
    new PreviewSweeper({
      previews: previewStore,
      stateMachine,
      launcher,
      runner: runtime.runner,
      starter: runtime.starter,
      clock,
      launchTimeoutSeconds: config.launchTimeoutSeconds,
      warnBeforeExpirySeconds: config.expiryWarningSeconds,
      serviceMetrics,
      onFailure: (previewId: string, error: unknown) =>
        logger.error('sweep of a preview failed', { previewId, error }),
      ...(live
        ? { warn: (previewId: string, secondsLeft: number) => live.live.expiring(previewId, secondsLeft) }
        : {}),
    });
  const maintenanceStop =
    runtime &&
    new MaintenanceStop({
      previews: previewStore,
      stateMachine,
      maintenance,
      onError: (previewId, error) =>
        logger.error('a preview could not be stopped for maintenance', { previewId, error }),
    });
  const comparison = new VersionComparison({ previews: previewStore, generations, proxy, metrics });
  const logs: LogServices | undefined = live &&
    logAdapters && {
      ...live,
      queries: new LogQueries({ service: previews, logs: logAdapters.store, exports: logAdapters.exports }),
    };
  return {
    config,
    previews,
    launcher,
    proxy,
    metrics: new PreviewMetrics({ service: previews, metrics, clock }),
    comparison,
    sampler,
    monitor,
    sweeper,
    maintenanceStop,
    logs,
    serviceMetrics,
  };
}

/**
 * Snapshots for a function that lists them but runs no launch (`GET …/preview/config` in AWS): the
 * ECR repository they are kept in.
 */
function listingOnly({ databaseSnapshots: snapshots }: Config): SnapshotListing | undefined {
  if (!snapshots.enabled || !snapshots.repositoryUri) return undefined;
  return {
    store: new EcrSnapshotImages(ecr(), snapshots.repositoryUri),
    maxCount: snapshots.maxCount,
    maxAgeSeconds: snapshots.maxAgeSeconds,
  };
}
