import { dynamoDocumentClient, s3 } from '../adapters/aws/clients.js';
import { DynamoDbEventStore } from '../adapters/aws/dynamodb-event-store.js';
import { DynamoDbPreviewStore } from '../adapters/aws/dynamodb-preview-store.js';
import { DynamoDbQuotaStore } from '../adapters/aws/dynamodb-quota-store.js';
import { S3GenerationStore } from '../adapters/aws/s3-generation-store.js';
import { DirectoryGenerationStore } from '../adapters/local/directory-generation-store.js';
import { systemClock, type Clock } from '../core/clock.js';
import { loadConfig, type Config } from '../core/config.js';
import type { GenerationStore, LaunchStarter } from '../core/ports.js';
import { PreviewService } from '../core/services/preview-service.js';
import { createTokenVerifier, type TokenVerifier } from '../core/token-verifier.js';

/** Everything the handlers use, built once per process from the validated environment. */
export interface Services {
  readonly config: Config;
  readonly previews: PreviewService;
}

/** What a runtime plugs in beyond the environment's defaults (the local runtime, tests). */
export interface ServiceOverrides {
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
  const generations =
    extra.generations ??
    (config.generations.bucket
      ? new S3GenerationStore(s3(), config.generations.bucket, config.generations.prefix)
      : new DirectoryGenerationStore(config.generations.directory));
  const previews = new PreviewService({
    previews: new DynamoDbPreviewStore(client, config.tables.previews),
    quotas: new DynamoDbQuotaStore(client, config.tables.quotas),
    events: new DynamoDbEventStore(client, config.tables.events, config.eventRetentionDays),
    generations,
    starter: extra.starter,
    tiers: config.tiers,
    urls: { api: config.publicUrl, websocket: config.websocketUrl },
    clock: extra.clock ?? systemClock,
  });
  return { config, previews };
}
