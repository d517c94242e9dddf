import type { ServiceStep } from './launch-trace.js';
import type { DatabaseType } from './generation.js';
import type { ApiEndpoint } from './openapi-endpoints.js';
import type { PreviewStatus } from './lifecycle.js';
import type { TierName } from './tiers.js';

/** Who did something: a signed-in user, or the service itself (sweeper, health monitor). */
export interface Actor {
  readonly type: 'user' | 'system';
  readonly id: string;
}

/** The caller, as the authorizer established it. */
export interface Identity {
  readonly userId: string;
  readonly tier: TierName;
}

export interface ResourceAllocation {
  readonly memoryMb: number;
  readonly cpu: number;
  readonly storageGb: number;
}

/** The app's limits as the runtime applies them, and why they differ from the tier's, when they do. */
export interface AppliedLimits {
  readonly memoryMb: number;
  readonly cpu: number;
  readonly reason?: string;
}

/** A step of the launch, with when it started and ended (the launch timeline). */
export interface TimelineStep {
  readonly step: 'requested' | 'build' | 'start' | 'database' | 'migrations' | 'seed' | 'first_healthy';
  readonly startedAt: string;
  readonly endedAt?: string;
  /** Set on `migrations` and `seed` when the database started from a snapshot that holds their result. */
  readonly restoredFromSnapshot?: boolean;
}

export interface PreviewFailure {
  readonly step: string;
  readonly reason: string;
  readonly message: string;
  readonly exitCode?: number;
  readonly lastLines?: readonly string[];
}

export interface HealthCheckResult {
  readonly name: 'http' | 'database' | 'memory';
  readonly status: 'passing' | 'warning' | 'failing';
  readonly message?: string;
  /** `45%`: shown as the spec has it. */
  readonly usage?: string;
  /** The same as a number: 45. */
  readonly usagePercent?: number;
}

/** The last health check of a serving preview. */
export interface PreviewHealth {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly checks: readonly HealthCheckResult[];
  readonly checkedAt: string;
  /** Unhealthy checks in a row; recovery starts at the threshold. */
  readonly consecutiveFailures: number;
}

/** What the preview's database held when the resource sampler last counted it. */
export interface DatabaseCount {
  /** The app's tables (alembic's version table, the migration tool's bookkeeping, is not one). */
  readonly tables: number;
  /** Rows in those tables, counted exactly. */
  readonly records: number;
  readonly countedAt: string;
}

/** The stored state of one preview: the user's current preview of one generation. */
export interface PreviewRecord {
  readonly userId: string;
  readonly generationId: string;
  readonly previewId: string;
  readonly projectId: string;
  readonly generationVersion?: string;
  readonly tier: TierName;
  readonly status: PreviewStatus;
  readonly statusReason?: string;
  /** SHA-256 of the preview token; the token itself is never stored. */
  readonly tokenHash: string;
  readonly dbType: DatabaseType;
  readonly autoMigrateDatabase: boolean;
  /** The launch asked for migrations and seed to run, not a database snapshot. */
  readonly freshDatabase?: boolean;
  /** What the tier asks for. */
  readonly resources: ResourceAllocation;
  /** Set when the runtime applies other limits than the tier's (a local engine smaller than the tier). */
  readonly appliedLimits?: AppliedLimits;
  readonly sessionSeconds: number;
  readonly extensionsUsed: number;
  readonly maxExtensions: number;
  readonly restarts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly healthyAt?: string;
  readonly stoppedAt?: string;
  /** Set when the preview first turns healthy: the session clock starts then. */
  readonly expiresAt?: string;
  readonly timeline: readonly TimelineStep[];
  /** The service's own steps during the last launch (written once it is healthy or failed). */
  readonly launchTrace?: readonly ServiceStep[];
  readonly failure?: PreviewFailure;
  /** The runtime's task: an ECS task ARN, or the local runner's id. */
  readonly taskId?: string;
  /** Where the app answers, from where the service runs (proxy target). */
  readonly endpoint?: { readonly host: string; readonly port: number };
  /** The app's health endpoint and how often to check it, from generation.json. */
  readonly healthCheck: { readonly endpoint: string; readonly intervalSeconds: number };
  readonly health?: PreviewHealth;
  /**
   * The app's endpoints, read from its OpenAPI document when it first turned healthy: empty when it
   * serves none; at most `maxStoredEndpoints`.
   */
  readonly generatedEndpoints?: readonly ApiEndpoint[];
  readonly databaseCount?: DatabaseCount;
  /** Set while a new task replaces a failed one; cleared when it is healthy again. */
  readonly recoveringSince?: string;
  /**
   * Stamped every few seconds by the launch (or recovery) in progress: a stale stamp means its
   * launcher is gone (a crashed process, a timed-out function) and the launch must be taken over.
   */
  readonly launchHeartbeatAt?: string;
  /** How many times a launch was taken over from a launcher that was gone. */
  readonly launchTakeovers?: number;
  /** When the user was told the session is about to end. */
  readonly expiryWarnedAt?: string;
  /** How many times the record was written: every write adds one (writes are conditional on the fields they decided on). */
  readonly version: number;
}

export const previewEventTypes = [
  'launched',
  'build_started',
  'built',
  'started',
  'healthy',
  'degraded',
  'unhealthy',
  'recovering',
  'recovered',
  'extended',
  'stopping',
  'stopped',
  'failed',
  'expired',
  'token_rotated',
] as const;

export type PreviewEventType = (typeof previewEventTypes)[number];

/** One line of the audit trail. */
export interface PreviewEvent {
  readonly previewId: string;
  readonly eventId: string;
  readonly type: PreviewEventType;
  readonly at: string;
  readonly actor: Actor;
  readonly generationId: string;
  readonly userId: string;
  readonly reason?: string;
  readonly detail?: Record<string, unknown>;
}
