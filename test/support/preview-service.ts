import { DynamoDbEventStore } from '#adapters/aws/dynamodb-event-store.js';
import { DynamoDbMetricsStore } from '#adapters/aws/dynamodb-metrics-store.js';
import { DynamoDbPreviewStore } from '#adapters/aws/dynamodb-preview-store.js';
import { DynamoDbQuotaStore } from '#adapters/aws/dynamodb-quota-store.js';
import type { AppHttpClient } from '#core/app-request.js';
import type { Clock } from '#core/clock.js';
import type { MaintenanceSwitch } from '#core/maintenance.js';
import type { LiveNotifier } from '#core/log-ports.js';
import type { GenerationStore, LaunchStarter, PreviewStore } from '#core/ports.js';
import type { TaskRunner } from '#core/task-runner.js';
import { PreviewLauncher, type PreviewLauncherDependencies } from '#core/services/preview-launcher.js';
import { PreviewService, type PreviewServiceDependencies } from '#core/services/preview-service.js';
import { PreviewStateMachine } from '#core/services/preview-state-machine.js';
import { defaultTiers, type Tiers } from '#core/tiers.js';
import type { TestDynamoDb } from './dynamodb.js';
import { generationSourceOf } from './fake-app.js';
import {
  InMemoryEventStore,
  InMemoryMetricsStore,
  InMemoryPreviewStore,
  InMemoryQuotaStore,
} from './in-memory.js';

/** Generations made up on demand: `<anything>` exists, with no database. */
export const anyGeneration: GenerationStore = {
  async load(generationId) {
    return generationSourceOf(generationId);
  },
};

/** Remembers what it was asked to start; the runtime is tested on its own. */
export class RecordingStarter implements LaunchStarter {
  readonly started: string[] = [];
  async start(preview: { previewId: string }): Promise<void> {
    this.started.push(preview.previewId);
  }
}

interface PreviewServiceOptions {
  clock?: Clock;
  starter?: LaunchStarter;
  tiers?: Tiers;
  runner?: TaskRunner;
  maintenance?: MaintenanceSwitch;
  generations?: GenerationStore;
  notifier?: LiveNotifier;
  allowUnownedGenerations?: boolean;
  /** What the services use in front of the store (a cache); the store itself otherwise. */
  previewsSeenAs?: (store: PreviewStore) => PreviewStore;
}

type PreviewStores = Pick<PreviewServiceDependencies, 'previews' | 'quotas' | 'events' | 'metrics'>;

/** The state machine and the service over the given stores, the way the service builds them. */
function previewServiceOver<Stores extends PreviewStores>(stores: Stores, options: PreviewServiceOptions) {
  const clock = options.clock ?? { now: () => new Date() };
  const seen = { ...stores, previews: options.previewsSeenAs?.(stores.previews) ?? stores.previews };
  const stateMachine = new PreviewStateMachine({
    ...seen,
    runner: options.runner,
    clock,
    ...(options.notifier ? { notifier: options.notifier } : {}),
  });
  const service = new PreviewService({
    ...seen,
    stateMachine,
    generations: options.generations ?? anyGeneration,
    allowUnownedGenerations: options.allowUnownedGenerations ?? true,
    starter: options.starter ?? new RecordingStarter(),
    runner: options.runner,
    tiers: options.tiers ?? defaultTiers,
    urls: { api: 'http://127.0.0.1:3000', websocket: undefined },
    clock,
    waitPollMs: 20,
    ...(options.maintenance ? { maintenance: options.maintenance } : {}),
  });
  return { service, stateMachine, ...stores };
}

/** The service over the tables of a local DynamoDB API. */
export function previewServiceOn(db: TestDynamoDb, options: PreviewServiceOptions = {}) {
  return previewServiceOver(
    {
      previews: new DynamoDbPreviewStore(db.client, db.tables.previews),
      quotas: new DynamoDbQuotaStore(db.client, db.tables.quotas),
      events: new DynamoDbEventStore(db.client, db.tables.events, 90),
      metrics: new DynamoDbMetricsStore(db.client, db.tables.metrics, 30),
    },
    options,
  );
}

/** The same service over in-memory stores: for unit tests of what is built on it. */
export function previewServiceInMemory(options: PreviewServiceOptions = {}) {
  return previewServiceOver(
    {
      previews: new InMemoryPreviewStore(),
      quotas: new InMemoryQuotaStore(),
      events: new InMemoryEventStore(),
      metrics: new InMemoryMetricsStore(),
    },
    options,
  );
}

/** An app that answers every request 200: each task it runs in comes up reachable. */
export const answeringApp: AppHttpClient = {
  send: async () => ({ statusCode: 200, headers: {}, body: Buffer.from('{}'), durationMs: 1 }),
};

/**
 * A launcher over a test's state machine and stores whose image is always built already, for the test's
 * runtime; anything else it needs differently, the test says.
 */
export function launcherOn(
  world: Pick<PreviewLauncherDependencies, 'stateMachine' | 'previews'>,
  deps: Pick<PreviewLauncherDependencies, 'runner'> & Partial<PreviewLauncherDependencies>,
): PreviewLauncher {
  return new PreviewLauncher({
    generations: anyGeneration,
    imageBuilder: { ensureImage: async () => ({ imageRef: 'preview-app:test', cached: true }) },
    tiers: defaultTiers,
    clock: { now: () => new Date() },
    client: answeringApp,
    ...world,
    ...deps,
  });
}
