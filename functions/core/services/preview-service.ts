import type { z } from 'zod';
import type {
  eventsResponseSchema,
  LaunchRequest,
  LaunchResponse,
  listPreviewsResponseSchema,
} from '../api-schemas.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { hashToken, newEventId, newPreviewId, newPreviewToken, previewIdCreatedAt } from '../ids.js';
import { assertTransition, isTerminal, type PreviewStatus } from '../lifecycle.js';
import type { LiveNotifier } from '../log-ports.js';
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
import type { Actor, Identity, PreviewEventType, PreviewRecord } from '../preview.js';
import { launchView, statusView, type PreviewUrls } from '../preview-views.js';
import { countLaunchFailure, serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { TaskRunner } from '../task-runner.js';
import { tierRank, type Tiers } from '../tiers.js';

export interface PreviewServiceDependencies {
  readonly previews: PreviewStore;
  readonly quotas: QuotaStore;
  readonly events: EventStore;
  readonly metrics: MetricsStore;
  readonly generations: GenerationStore;
  readonly starter: LaunchStarter | undefined;
  /** Tears down a preview's task on stop; absent where no runtime is configured. */
  readonly runner: TaskRunner | undefined;
  readonly tiers: Tiers;
  readonly urls: PreviewUrls;
  readonly clock: Clock;
  readonly serviceMetrics?: ServiceMetrics;
  /** How often `?wait=` polls the stored status. */
  readonly waitPollMs?: number;
  /** Told of every status change (the live stream's `status` messages); never fails a transition. */
  readonly notifier?: LiveNotifier;
  /** While on, launches are refused with 503 `maintenance`. */
  readonly maintenance?: MaintenanceSwitch;
}

export interface LaunchResult {
  /** 202 for a new launch, 200 when an existing live preview is returned. */
  readonly httpStatus: 200 | 202;
  readonly body: LaunchResponse;
}

/** A reserved preview's record is written before its reservation; after this long, one not found is gone. */
const abandonedReservationMs = 60_000;

const maxStopAttempts = 5;

const userActor = (identity: Identity): Actor => ({ type: 'user', id: identity.userId });

/** Launch, inspect, list and stop previews: the rules, with storage and runtime behind ports. */
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
    if (!source) throw new AppError('not_found', `Generation ${generationId} was not found.`);
    const generation = source.generation;
    if (request.generationId !== undefined && request.generationId !== generationId) {
      throw new AppError('validation_failed', 'The request is invalid.', [
        { field: 'body.generationId', message: `must match the generation in the path (${generationId})` },
      ]);
    }
    if (request.projectId !== undefined && request.projectId !== generation.projectId) {
      throw new AppError('validation_failed', 'The request is invalid.', [
        { field: 'body.projectId', message: `must be the generation's project (${generation.projectId})` },
      ]);
    }
    const tierName = request.resourceTier ?? identity.tier;
    if (tierRank(tierName) > tierRank(identity.tier)) {
      throw new AppError('forbidden', `Your plan (${identity.tier}) does not include ${tierName} resources.`);
    }

    let existing = await this.deps.previews.get(identity.userId, generationId);
    if (existing && !isTerminal(existing.status)) {
      if (!request.restart) return { httpStatus: 200, body: launchView(existing, this.deps.urls) };
      existing = await this.stopRecord(existing, userActor(identity), 'restart requested');
    }

    const tier = this.deps.tiers[tierName];
    const now = this.deps.clock.now();
    const token = newPreviewToken();
    const record: PreviewRecord = {
      userId: identity.userId,
      generationId,
      previewId: newPreviewId(now),
      projectId: generation.projectId,
      ...(generation.version === undefined ? {} : { generationVersion: generation.version }),
      tier: tierName,
      status: 'requested',
      tokenHash: hashToken(token),
      dbType: request.databaseType ?? generation.dbType,
      autoMigrateDatabase: request.autoMigrateDatabase ?? true,
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
    // The record first: its conditional write lets exactly one of several simultaneous launches
    // of a generation through, and the others answer with the winner's preview.
    try {
      await this.deps.previews.create(record, existing);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
      const winner = await this.deps.previews.get(identity.userId, generationId);
      if (!winner || isTerminal(winner.status)) throw error;
      return { httpStatus: 200, body: launchView(winner, this.deps.urls) };
    }
    if (!(await this.reserveQuota(identity, record.previewId))) {
      await this.deps.previews.remove(record);
      const limit = this.deps.tiers[identity.tier].maxConcurrentPreviews;
      throw new AppError(
        'quota_exceeded',
        `Your plan (${identity.tier}) allows ${limit} previews at once; stop one to launch another.`,
        { limit },
      );
    }
    this.deps.serviceMetrics?.count(serviceMetricNames.launches);
    await this.recordEvent(record, 'launched', userActor(identity), undefined, {
      tier: tierName,
      generationVersion: generation.version,
    });
    try {
      await starter.start(record);
    } catch (error) {
      await this.fail(record, {
        step: 'start',
        reason: 'start_failed',
        message: 'The preview could not be started.',
      });
      throw error;
    }
    const settled = waitSeconds > 0 ? await this.waitForSettled(record, waitSeconds) : record;
    return { httpStatus: 202, body: launchView(settled, this.deps.urls, token) };
  }

  async status(identity: Identity, generationId: string) {
    const record = await this.ownedPreview(identity, generationId);
    const [resources, buckets] = await Promise.all([
      this.deps.metrics.latestResources(record.previewId),
      this.deps.metrics.requestBuckets(record.previewId),
    ]);
    return statusView(record, this.deps.urls, this.deps.clock.now(), {
      resources,
      requests: totalRequests(buckets),
    });
  }

  /** Idempotent: stopping a finished preview answers with its final state. */
  async stop(identity: Identity, generationId: string) {
    for (let attempt = 1; ; attempt++) {
      const record = await this.ownedPreview(identity, generationId);
      try {
        const stopped = isTerminal(record.status)
          ? record
          : await this.stopRecord(record, userActor(identity), 'stopped by user');
        return {
          previewInstanceId: stopped.previewId,
          status: stopped.status,
          stoppedAt: stopped.stoppedAt ?? null,
        };
      } catch (error) {
        // The launcher or the health monitor moved it meanwhile: read again and retry.
        if (!(error instanceof AppError && error.code === 'conflict') || attempt >= maxStopAttempts)
          throw error;
      }
    }
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
        ...(e.reason === undefined ? {} : { reason: e.reason }),
        ...(e.detail === undefined ? {} : { data: e.detail }),
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

  /** Moves a preview to `to` with a conditional write and records the audit event. */
  async transition(
    record: PreviewRecord,
    to: PreviewStatus,
    actor: Actor,
    changes: Partial<Omit<PreviewRecord, 'userId' | 'generationId' | 'previewId' | 'version'>> = {},
    event?: { type: PreviewEventType; reason?: string; detail?: Record<string, unknown> },
  ): Promise<PreviewRecord> {
    assertTransition(record.status, to);
    const now = this.deps.clock.now().toISOString();
    const next: PreviewRecord = {
      ...record,
      ...changes,
      status: to,
      updatedAt: now,
      version: record.version + 1,
    };
    await this.deps.previews.update(record, next);
    if (isTerminal(to)) await this.deps.quotas.release(record.userId, record.previewId);
    if (event) await this.recordEvent(next, event.type, actor, event.reason, event.detail);
    await this.deps.notifier?.statusChanged(next);
    return next;
  }

  async fail(record: PreviewRecord, failure: NonNullable<PreviewRecord['failure']>): Promise<PreviewRecord> {
    const now = this.deps.clock.now().toISOString();
    countLaunchFailure(this.deps.serviceMetrics, failure.reason);
    return this.transition(
      record,
      'failed',
      { type: 'system', id: 'launcher' },
      { failure, statusReason: failure.message, stoppedAt: now },
      { type: 'failed', reason: failure.reason, detail: { step: failure.step, message: failure.message } },
    );
  }

  /** Writes changes that are not a status change (health, warnings), conditional like a transition. */
  async update(
    record: PreviewRecord,
    changes: Partial<Omit<PreviewRecord, 'userId' | 'generationId' | 'previewId' | 'version' | 'status'>>,
  ): Promise<PreviewRecord> {
    const next: PreviewRecord = {
      ...record,
      ...changes,
      updatedAt: this.deps.clock.now().toISOString(),
      version: record.version + 1,
    };
    await this.deps.previews.update(record, next);
    return next;
  }

  /** Seed §4: more time, within the tier's extension length and count. */
  async extend(identity: Identity, generationId: string, durationSeconds: number | undefined) {
    const record = await this.ownedPreview(identity, generationId);
    const tier = this.deps.tiers[record.tier];
    const maxSeconds = tier.extensionMinutes * 60;
    const duration = durationSeconds ?? maxSeconds;
    if (duration > maxSeconds) {
      throw new AppError('validation_failed', 'The request is invalid.', [
        {
          field: 'body.duration',
          message: `must be at most ${maxSeconds} seconds on the ${record.tier} tier`,
        },
      ]);
    }
    if (isTerminal(record.status) || record.status === 'stopping') {
      throw new AppError('conflict', `The preview is ${record.status}; launch it again instead.`);
    }
    if (!record.expiresAt) {
      throw new AppError(
        'conflict',
        'The session starts when the preview first turns healthy; extend it after that.',
      );
    }
    if (record.extensionsUsed >= record.maxExtensions) {
      throw new AppError(
        'conflict',
        `No extensions left: the ${record.tier} tier allows ${record.maxExtensions}.`,
        {
          maxExtensions: record.maxExtensions,
        },
      );
    }
    const newExpiresAt = new Date(Date.parse(record.expiresAt) + duration * 1000).toISOString();
    const extended = await this.update(record, {
      expiresAt: newExpiresAt,
      extensionsUsed: record.extensionsUsed + 1,
    });
    await this.recordEvent(extended, 'extended', userActor(identity), undefined, {
      durationSeconds: duration,
      newExpiresAt,
    });
    return {
      status: 'extended' as const,
      newExpiresAt,
      extensionsRemaining: extended.maxExtensions - extended.extensionsUsed,
      maxExtensions: extended.maxExtensions,
    };
  }

  /** A new preview token, returned once; the previous one stops working at once. */
  async rotateToken(identity: Identity, generationId: string) {
    const record = await this.ownedPreview(identity, generationId);
    if (isTerminal(record.status)) throw new AppError('conflict', `The preview is ${record.status}.`);
    const token = newPreviewToken();
    const rotated = await this.update(record, { tokenHash: hashToken(token) });
    await this.recordEvent(rotated, 'token_rotated', userActor(identity), 'requested by the owner');
    return { previewInstanceId: rotated.previewId, previewToken: token };
  }

  /** The sweeper's stop of a preview whose session ended. */
  async expire(record: PreviewRecord): Promise<PreviewRecord> {
    return this.stopRecord(record, { type: 'system', id: 'sweeper' }, 'session expired', 'expired');
  }

  /**
   * A stop the service decides on its own, not the owner: maintenance, or a task an operator stopped
   * (the preview ends rather than coming back). Idempotent like the owner's stop.
   */
  async halt(
    record: PreviewRecord,
    actor: 'maintenance' | 'operator',
    reason: string,
  ): Promise<PreviewRecord> {
    if (isTerminal(record.status)) return record;
    return this.stopRecord(record, { type: 'system', id: actor }, reason);
  }

  /** The sweeper's stop of a preview whose launch never finished. */
  async abandon(record: PreviewRecord, reason: string): Promise<PreviewRecord> {
    await this.deps.runner?.stop(record.previewId);
    return this.fail(record, { step: 'launch', reason: 'timeout', message: reason });
  }

  private async stopRecord(
    record: PreviewRecord,
    actor: Actor,
    reason: string,
    finalEvent: 'stopped' | 'expired' = 'stopped',
  ): Promise<PreviewRecord> {
    const stopping =
      record.status === 'stopping'
        ? record
        : await this.transition(
            record,
            'stopping',
            actor,
            { statusReason: reason },
            { type: 'stopping', reason },
          );
    await this.deps.runner?.stop(record.previewId);
    return this.transition(
      stopping,
      'stopped',
      actor,
      { stoppedAt: this.deps.clock.now().toISOString() },
      { type: finalEvent, reason },
    );
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
      // The index lags the table: a young reservation whose record is not found yet is kept.
      if (!live && (previewIdCreatedAt(liveId)?.getTime() ?? 0) > staleBefore) continue;
      await this.deps.quotas.release(identity.userId, liveId);
      released = true;
    }
    return released && this.deps.quotas.reserve(identity.userId, previewId, limit);
  }

  async recordEvent(
    record: PreviewRecord,
    type: PreviewEventType,
    actor: Actor,
    reason?: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const at = this.deps.clock.now();
    await this.deps.events.append({
      previewId: record.previewId,
      eventId: newEventId(at),
      type,
      at: at.toISOString(),
      actor,
      generationId: record.generationId,
      userId: record.userId,
      ...(reason === undefined ? {} : { reason }),
      ...(detail === undefined ? {} : { detail }),
    });
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
