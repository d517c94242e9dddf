import { dynamoDocumentClient, s3 } from '../adapters/aws/clients.js';
import { DynamoDbEventStore } from '../adapters/aws/dynamodb-event-store.js';
import { DynamoDbMetricsStore } from '../adapters/aws/dynamodb-metrics-store.js';
import { DynamoDbPreviewStore } from '../adapters/aws/dynamodb-preview-store.js';
import { DynamoDbQuotaStore } from '../adapters/aws/dynamodb-quota-store.js';
import { S3GenerationStore } from '../adapters/aws/s3-generation-store.js';
import { DirectoryGenerationStore } from '../adapters/local/directory-generation-store.js';
import { systemClock, type Clock } from '../core/clock.js';
import { loadConfig, type Config } from '../core/config.js';
import type { GenerationStore, LaunchStarter } from '../core/ports.js';
import { PreviewLauncher } from '../core/services/preview-launcher.js';
import { PreviewProxy } from '../core/services/preview-proxy.js';
import { PreviewService } from '../core/services/preview-service.js';
import { ResourceSampler } from '../core/services/resource-sampler.js';
import { nodeAppHttpClient } from '../adapters/node-app-http-client.js';
import type { ImageBuilder, TaskRunner } from '../core/task-runner.js';
import { createTokenVerifier, type TokenVerifier } from '../core/token-verifier.js';

/** Where previews run: an image builder and a task runner of the same kind. */
export interface PreviewRuntime {
  readonly imageBuilder: ImageBuilder;
  readonly runner: TaskRunner;
  readonly starter: LaunchStarter;
}

/** Everything the handlers use, built once per process from the validated environment. */
export interface Services {
  readonly config: Config;
  readonly previews: PreviewService;
  /** Absent where no runtime is configured: launching then answers 501. */
  readonly launcher: PreviewLauncher | undefined;
  readonly proxy: PreviewProxy;
  /** Reads resource use where the runtime can (Docker, processes). */
  readonly sampler: ResourceSampler | undefined;
}

/** What a runtime plugs in beyond the environment's defaults (the local runtime, tests). */
export interface ServiceOverrides {
  readonly runtime?: PreviewRuntime;
  /** A starter without a runtime: tests of the API that need no containers. */
  readonly starter?: LaunchStarter;
  readonly generations?: GenerationStore;
  readonly clock?: Clock;
}

let overrides: ServiceOverrides = {};
let current: Services | undefined;
let verifier: TokenVerifier | undefined;

export function useServiceOverrides(next: ServiceOverrides): void {
  overrides = next;
  current = undefined;
  verifier = undefined;
}

export function services(): Services {
  current ??= buildServices(loadConfig(), overrides);
  return current;
}

/** Only the authorizer verifies tokens, so only it needs the JWT settings. */
export function tokenVerifier(): TokenVerifier {
  verifier ??= createTokenVerifier(services().config.jwt);
  return verifier;
}

function buildServices(config: Config, extra: ServiceOverrides): Services {
  const client = dynamoDocumentClient();
  const clock = extra.clock ?? systemClock;
  const generations =
    extra.generations ??
    (config.generations.bucket
      ? new S3GenerationStore(s3(), config.generations.bucket, config.generations.prefix)
      : new DirectoryGenerationStore(config.generations.directory));
  const previewStore = new DynamoDbPreviewStore(client, config.tables.previews);
  const runtime = extra.runtime;
  const metrics = new DynamoDbMetricsStore(client, config.tables.metrics, config.metricsRetentionDays);
  const previews = new PreviewService({
    previews: previewStore,
    quotas: new DynamoDbQuotaStore(client, config.tables.quotas),
    events: new DynamoDbEventStore(client, config.tables.events, config.eventRetentionDays),
    metrics,
    generations,
    starter: runtime?.starter ?? extra.starter,
    runner: runtime?.runner,
    tiers: config.tiers,
    urls: { api: config.publicUrl, websocket: config.websocketUrl },
    clock,
  });
  const launcher =
    runtime &&
    new PreviewLauncher({
      previews: previewStore,
      generations,
      service: previews,
      imageBuilder: runtime.imageBuilder,
      runner: runtime.runner,
      tiers: config.tiers,
      clock,
    });
  const proxy = new PreviewProxy({
    service: previews,
    generations,
    client: nodeAppHttpClient,
    metrics,
    clock,
  });
  const sampler =
    runtime && new ResourceSampler({ previews: previewStore, runner: runtime.runner, metrics, clock });
  return { config, previews, launcher, proxy, sampler };
}
