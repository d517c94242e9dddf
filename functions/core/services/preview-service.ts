import type { z } from 'zod';
import type {
  eventsResponseSchema,
  LaunchRequest,
  LaunchResponse,
  listPreviewsResponseSchema,
} from '../api-schemas.js';
import type { Clock } from '../clock.js';
import { AppError, invalidFields } from '../errors.js';
import type { Generation } from '../generation.js';
import { hashToken, newPreviewId, newPreviewToken, previewIdCreatedAt } from '../ids.js';
import { isTerminal } from '../lifecycle.js';
import { redactSecrets, redactValues } from '../log-redaction.js';
import { maintenanceRefusal, type MaintenanceSwitch } from '../maintenance.js';
import { totalRequests } from '../metrics.js';
import type {
  EventStore,
  GenerationStore,
  LaunchStarter,
  MetricsStore,
  PreviewStore,
  QuotaStore,
} from '../ports.js';
import type { Actor, Identity, PreviewRecord } from '../preview.js';
import { launchView, statusView, type PreviewUrls } from '../preview-views.js';
import { serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { TaskRunner } from '../task-runner.js';
import { tierRank, type Tiers } from '../tiers.js';
import { extendableStatuses, type PreviewStateMachine } from './preview-state-machine.js';

/** When a client refused because the runtime is away should try again: an engine restart's length. */
const runtimeRetryAfterSeconds = 15;

export interface PreviewServiceDependencies {
  /** Every write to an existing preview: status changes, targeted updates, audit events. */
  readonly stateMachine: PreviewStateMachine;
  readonly previews: PreviewStore;
  readonly quotas: QuotaStore;
  readonly events: EventStore;
  readonly metrics: MetricsStore;
  readonly generations: GenerationStore;
  /** Whether generations that name no owner may be launched (by anyone): the bundled examples, locally. */
  readonly allowUnownedGenerations: boolean;
  readonly starter: LaunchStarter | undefined;
  /** Asked whether the runtime answers before a launch changes anything; absent where none is configured. */
  readonly runner: TaskRunner | undefined;
  readonly tiers: Tiers;
  readonly urls: PreviewUrls;
  readonly clock: Clock;
  readonly serviceMetrics?: ServiceMetrics;
  /** How often `?wait=` polls the stored status. */
  readonly waitPollMs?: number;
  /** While on, launches are refused with 503 `maintenance`. */
  readonly maintenance?: MaintenanceSwitch;
}

export interface LaunchResult {
  /** `launched`: a new preview was recorded and started; `existing`: the generation's live preview. */
  readonly outcome: 'launched' | 'existing';
  readonly body: LaunchResponse;
}

/**
 * A launch reserves its quota slot before it writes its record; a reservation whose record is
 * still not found after this long belongs to a launch that died in between, and is released.
 */
const abandonedReservationMs = 60_000;

/** Owner actions read again and retry this many times when a racing writer changed what they decided on. */
const maxConflictAttempts = 5;

const userActor = (identity: Identity): Actor => ({ type: 'user', id: identity.userId });

/**
 * What an owner does with previews: launch, inspect, list, extend, rotate the token, stop. Owner
 * actions read again and retry when a background writer (launcher, monitor, sweeper) moved the
 * preview meanwhile, so they never fail because of one; the writes themselves are the state machine's.
 */
export class PreviewService {
  constructor(private readonly deps: PreviewServiceDependencies) {}

  async listPreviews(identity: Identity): Promise<z.infer<typeof listPreviewsResponseSchema>> {
    const records = await this.deps.previews.listByUser(identity.userId);
    const limit = this.deps.tiers[identity.tier].maxConcurrentPreviews;
    const used = records.filter((r) => !isTerminal(r.status)).length;
    return {
      previews: records.map((r) => ({
        previewInstanceId: r.previewId,
        generationId: r.generationId,
        projectId: r.projectId,
        status: r.status,
        tier: r.tier,
        createdAt: r.createdAt,
        expiresAt: r.expiresAt ?? null,
      })),
      quota: { tier: identity.tier, limit, used, remaining: Math.max(0, limit - used) },
    };
  }

  async launch(
    identity: Identity,
    generationId: string,
    request: LaunchRequest,
    waitSeconds = 0,
  ): Promise<LaunchResult> {
    const starter = this.deps.starter;
    if (!starter) {
      throw new AppError(
        'not_implemented',
        'No preview runner is configured in this environment, so previews cannot be launched yet.',
      );
    }
    if (await this.deps.maintenance?.isOn()) throw maintenanceRefusal();
    const source = await this.deps.generations.load(generationId);
    // Someone else's generation is indistinguishable from a missing one.
    if (!source || !this.mayLaunch(identity, source.generation)) {
      throw new AppError('not_found', `Generation ${generationId} was not found.`);
    }
    const generation = source.generation;
    if (request.generationId !== undefined && request.generationId !== generationId) {
      throw invalidFields([
        { field: 'body.generationId', message: `must match the generation in the path (${generationId})` },
      ]);
    }
    if (request.projectId !== undefined && request.projectId !== generation.projectId) {
      throw invalidFields([
        { field: 'body.projectId', message: `must be the generation's project (${generation.projectId})` },
      ]);
    }
    const tierName = request.resourceTier ?? identity.tier;
    if (tierRank(tierName) > tierRank(identity.tier)) {
      throw new AppError('forbidden', `Your plan (${identity.tier}) does not include ${tierName} resources.`);
    }

    const found = await this.deps.previews.get(identity.userId, generationId);
    if (found && !isTerminal(found.status) && !request.restart) {
      return { outcome: 'existing', body: launchView(found, this.deps.urls) };
    }
    // Before anything changes: a restart must not stop the preview it cannot replace.
    await starter.ensureAvailable?.();
    if (this.deps.runner?.available && !(await this.deps.runner.available())) {
      throw new AppError(
        'runtime_unavailable',
        'The container runtime is not answering (it may be restarting); try again shortly.',
        undefined,
        runtimeRetryAfterSeconds,
      );
    }
    const now = this.deps.clock.now();
    // Named before the restart's stop, so that the stopped preview's clients are told where to go on.
    const previewId = newPreviewId(now);
    // A restart stops the live preview first, reading it again if a background writer moved it.
    const existing =
      found && !isTerminal(found.status)
        ? await this.retryingOnConflict(async () => {
            const current = await this.deps.previews.get(identity.userId, generationId);
            if (!current || isTerminal(current.status)) return current;
            return this.deps.stateMachine.stop(current, userActor(identity), 'restart requested', {
              ending: { cause: 'preview_restarted', successorPreviewId: previewId },
            });
          })
        : found;

    const tier = this.deps.tiers[tierName];
    const token = newPreviewToken();
    const record: PreviewRecord = {
      userId: identity.userId,
      generationId,
      previewId,
      projectId: generation.projectId,
      ...(generation.version === undefined ? {} : { generationVersion: generation.version }),
      tier: tierName,
      status: 'requested',
      tokenHash: hashToken(token),
      dbType: request.databaseType ?? generation.dbType,
      autoMigrateDatabase: request.autoMigrateDatabase ?? true,
      ...(request.freshDatabase ? { freshDatabase: true } : {}),
      resources: { memoryMb: tier.memory, cpu: tier.cpu, storageGb: tier.storageGb },
      sessionSeconds: tier.sessionMinutes * 60,
      extensionsUsed: 0,
      maxExtensions: tier.maxExtensions,
      restarts: 0,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      timeline: [{ step: 'requested', startedAt: now.toISOString(), endedAt: now.toISOString() }],
      healthCheck: {
        endpoint: generation.healthCheckEndpoint,
        intervalSeconds: generation.healthCheckInterval,
      },
      version: 1,
    };
    // The reservation first: a refused launch then writes nothing, and the generation's previous
    // preview (stopped, with its logs and events) stays as it was.
    if (!(await this.reserveQuota(identity, record.previewId))) {
      const winner = await this.deps.previews.get(identity.userId, generationId);
      // A simultaneous launch of the same generation took the last slot: answer with its preview.
      if (winner && !isTerminal(winner.status))
        return { outcome: 'existing', body: launchView(winner, this.deps.urls) };
      const limit = this.deps.tiers[identity.tier].maxConcurrentPreviews;
      const active = (await this.deps.quotas.live(identity.userId)).length;
      throw new AppError(
        'quota_exceeded',
        `Your plan (${identity.tier}) allows ${limit} previews at once; stop one to launch another.`,
        { limit, active },
      );
    }
    // The record's conditional write lets exactly one of several simultaneous launches of a
    // generation through; the others give their reservation back and answer with the winner's preview.
    try {
      await this.deps.previews.create(record, existing);
    } catch (error) {
      await this.deps.quotas.release(identity.userId, record.previewId);
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
      const winner = await this.deps.previews.get(identity.userId, generationId);
      if (!winner || isTerminal(winner.status)) throw error;
      return { outcome: 'existing', body: launchView(winner, this.deps.urls) };
    }
    this.deps.serviceMetrics?.count(serviceMetricNames.launches);
    await this.deps.stateMachine.recordEvent(record, 'launched', userActor(identity), undefined, {
      tier: tierName,
      generationVersion: generation.version,
    });
    try {
      await starter.start(record);
    } catch (error) {
      await this.deps.stateMachine.fail(record, {
        step: 'start',
        reason: 'start_failed',
        message: 'The preview could not be started.',
      });
      throw error;
    }
    const settled = waitSeconds > 0 ? await this.waitForSettled(record, waitSeconds) : record;
    return { outcome: 'launched', body: launchView(settled, this.deps.urls, token) };
  }

  private mayLaunch(identity: Identity, generation: Generation): boolean {
    return generation.ownerId === undefined
      ? this.deps.allowUnownedGenerations
      : generation.ownerId === identity.userId;
  }

  async status(identity: Identity, generationId: string) {
    const record = await this.ownedPreview(identity, generationId);
    const [resources, buckets] = await Promise.all([
      this.deps.metrics.latestResources(record.previewId),
      this.deps.metrics.requestBuckets(record.previewId),
    ]);
    const { runner } = this.deps;
    return statusView(record, this.deps.urls, this.deps.clock.now(), {
      resources,
      requests: totalRequests(buckets),
      ...(runner
        ? { databaseCounter: { kind: runner.kind, counts: runner.countDatabase !== undefined } }
        : {}),
    });
  }

  /** Idempotent: stopping a finished preview answers with its final state. */
  async stop(identity: Identity, generationId: string) {
    // The launcher or the health monitor may move the preview meanwhile: read again and retry.
    return this.retryingOnConflict(async () => {
      const record = await this.ownedPreview(identity, generationId);
      const stopped = isTerminal(record.status)
        ? record
        : await this.deps.stateMachine.stop(record, userActor(identity), 'stopped by user', {
            ending: { cause: 'preview_deleted' },
          });
      return {
        previewInstanceId: stopped.previewId,
        status: stopped.status,
        stoppedAt: stopped.stoppedAt ?? null,
      };
    });
  }

  async listEvents(
    identity: Identity,
    generationId: string,
    page: { limit: number; nextToken?: string },
  ): Promise<z.infer<typeof eventsResponseSchema>> {
    const record = await this.ownedPreview(identity, generationId);
    const result = await this.deps.events.list(record.previewId, page);
    return {
      events: result.items.map((e) => ({
        eventId: e.eventId,
        type: e.type,
        timestamp: e.at,
        actor: e.actor,
        // Reasons and details can quote what an app printed: they leave redacted.
        ...(e.reason === undefined ? {} : { reason: redactSecrets(e.reason) }),
        ...(e.detail === undefined ? {} : { data: redactValues(e.detail) }),
      })),
      ...(result.nextToken === undefined ? {} : { nextToken: result.nextToken }),
    };
  }

  /** The caller's current preview of a generation; someone else's is indistinguishable from none. */
  async ownedPreview(identity: Identity, generationId: string): Promise<PreviewRecord> {
    const record = await this.deps.previews.get(identity.userId, generationId);
    if (!record) throw new AppError('not_found', `There is no preview of generation ${generationId}.`);
    return record;
  }

  /**
   * More time, within the tier's extension length and count. Of two racing extends with one
   * extension left exactly one succeeds: the other reads again and is refused.
   */
  async extend(identity: Identity, generationId: string, durationSeconds: number | undefined) {
    return this.retryingOnConflict(async () => {
      const record = await this.ownedPreview(identity, generationId);
      const tier = this.deps.tiers[record.tier];
      const maxSeconds = tier.extensionMinutes * 60;
      const duration = durationSeconds ?? maxSeconds;
      if (duration > maxSeconds) {
        throw invalidFields([
          {
            field: 'body.duration',
            message: `must be at most ${maxSeconds} seconds on the ${record.tier} tier`,
          },
        ]);
      }
      if (!extendableStatuses.includes(record.status)) {
        throw new AppError('invalid_state', `The preview is ${record.status}; launch it again instead.`, {
          status: record.status,
        });
      }
      if (!record.expiresAt) {
        throw new AppError(
          'preview_not_running',
          'The session starts when the preview first turns healthy; extend it after that.',
          { status: record.status },
        );
      }
      if (record.extensionsUsed >= record.maxExtensions) {
        throw new AppError(
          'extension_limit_reached',
          `No extensions left: the ${record.tier} tier allows ${record.maxExtensions}.`,
          { maxExtensions: record.maxExtensions },
        );
      }
      const { record: extended, newExpiresAt } = await this.deps.stateMachine.extend(
        { ...record, expiresAt: record.expiresAt },
        duration,
        userActor(identity),
      );
      return {
        status: 'extended' as const,
        newExpiresAt,
        extensionsRemaining: extended.maxExtensions - extended.extensionsUsed,
        maxExtensions: extended.maxExtensions,
      };
    });
  }

  /** A new preview token, returned once; the previous one stops working at once. */
  async rotateToken(identity: Identity, generationId: string) {
    return this.retryingOnConflict(async () => {
      const record = await this.ownedPreview(identity, generationId);
      if (isTerminal(record.status)) {
        throw new AppError('invalid_state', `The preview is ${record.status}; launch it again instead.`, {
          status: record.status,
        });
      }
      const { record: rotated, token } = await this.deps.stateMachine.rotateToken(
        record,
        userActor(identity),
      );
      return { previewInstanceId: rotated.previewId, previewToken: token };
    });
  }

  /**
   * Adds the preview to the user's live set. When the set is full, members whose preview has
   * finished (a crash between steps can leave one behind) are released and the reservation retried once.
   */
  private async reserveQuota(identity: Identity, previewId: string): Promise<boolean> {
    const limit = this.deps.tiers[identity.tier].maxConcurrentPreviews;
    if (await this.deps.quotas.reserve(identity.userId, previewId, limit)) return true;
    let released = false;
    const staleBefore = this.deps.clock.now().getTime() - abandonedReservationMs;
    for (const liveId of await this.deps.quotas.live(identity.userId)) {
      const live = await this.deps.previews.getById(liveId);
      if (live && !isTerminal(live.status)) continue;
      // A young reservation whose record is not found yet is a launch in progress: kept.
      if (!live && (previewIdCreatedAt(liveId)?.getTime() ?? 0) > staleBefore) continue;
      await this.deps.quotas.release(identity.userId, liveId);
      released = true;
    }
    return released && this.deps.quotas.reserve(identity.userId, previewId, limit);
  }

  /** Runs an owner action again, on a fresh read, when a racing writer changed what it decided on. */
  private async retryingOnConflict<T>(action: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'conflict') || attempt >= maxConflictAttempts)
          throw error;
        // A little jitter, so two retrying writers do not meet again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  private async waitForSettled(record: PreviewRecord, seconds: number): Promise<PreviewRecord> {
    const deadline = Date.now() + seconds * 1000;
    let current = record;
    while (Date.now() < deadline) {
      if (current.status === 'healthy' || isTerminal(current.status)) return current;
      await new Promise((resolve) => setTimeout(resolve, this.deps.waitPollMs ?? 250));
      current = (await this.deps.previews.getById(record.previewId)) ?? current;
    }
    return current;
  }
}
