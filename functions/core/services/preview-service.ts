import type { z } from 'zod';
import type {
  eventsResponseSchema,
  LaunchRequest,
  LaunchResponse,
  listPreviewsResponseSchema,
} from '../api-schemas.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Generation } from '../generation.js';
import { hashToken, newEventId, newPreviewId, newPreviewToken, previewIdCreatedAt } from '../ids.js';
import { assertTransition, isTerminal, previewStatuses, type PreviewStatus } from '../lifecycle.js';
import type { LiveNotifier } from '../log-ports.js';
import { redactSecrets, redactValues } from '../log-redaction.js';
import { maintenanceRefusal, type MaintenanceSwitch } from '../maintenance.js';
import { totalRequests } from '../metrics.js';
import type {
  EventStore,
  GenerationStore,
  LaunchStarter,
  MetricsStore,
  PreviewChanges,
  PreviewCondition,
  PreviewStore,
  QuotaStore,
} from '../ports.js';
import type { Actor, Identity, PreviewEventType, PreviewRecord } from '../preview.js';
import { launchView, redactedFailure, statusView, type PreviewUrls } from '../preview-views.js';
import { countLaunchFailure, serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { TaskRunner } from '../task-runner.js';
import { tierRank, type Tiers } from '../tiers.js';

/** When a client refused because the runtime is away should try again: an engine restart's length. */
const runtimeRetryAfterSeconds = 15;

export interface PreviewServiceDependencies {
  readonly previews: PreviewStore;
  readonly quotas: QuotaStore;
  readonly events: EventStore;
  readonly metrics: MetricsStore;
  readonly generations: GenerationStore;
  /** Whether generations that name no owner may be launched (by anyone): the bundled examples, locally. */
  readonly allowUnownedGenerations: boolean;
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

/**
 * A launch reserves its quota slot before it writes its record; a reservation whose record is
 * still not found after this long belongs to a launch that died in between, and is released.
 */
const abandonedReservationMs = 60_000;

/** Owner actions read again and retry this many times when a racing writer changed what they decided on. */
const maxConflictAttempts = 5;

const liveStatuses: readonly PreviewStatus[] = previewStatuses.filter((status) => !isTerminal(status));
/** Where a session can still be extended: anything live but a preview being stopped. */
const extendableStatuses: readonly PreviewStatus[] = liveStatuses.filter((status) => status !== 'stopping');

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
    // Someone else's generation is indistinguishable from a missing one.
    if (!source || !this.mayLaunch(identity, source.generation)) {
      throw new AppError('not_found', `Generation ${generationId} was not found.`);
    }
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

    const found = await this.deps.previews.get(identity.userId, generationId);
    if (found && !isTerminal(found.status) && !request.restart) {
      return { httpStatus: 200, body: launchView(found, this.deps.urls) };
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
    // A restart stops the live preview first, reading it again if a background writer moved it.
    const existing =
      found && !isTerminal(found.status)
        ? await this.retryingOnConflict(async () => {
            const current = await this.deps.previews.get(identity.userId, generationId);
            if (!current || isTerminal(current.status)) return current;
            return this.stopRecord(current, userActor(identity), 'restart requested');
          })
        : found;

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
    // The reservation first: a refused launch then writes nothing, and the generation's previous
    // preview (stopped, with its logs and events) stays as it was.
    if (!(await this.reserveQuota(identity, record.previewId))) {
      const winner = await this.deps.previews.get(identity.userId, generationId);
      // A simultaneous launch of the same generation took the last slot: answer with its preview.
      if (winner && !isTerminal(winner.status))
        return { httpStatus: 200, body: launchView(winner, this.deps.urls) };
      const limit = this.deps.tiers[identity.tier].maxConcurrentPreviews;
      throw new AppError(
        'quota_exceeded',
        `Your plan (${identity.tier}) allows ${limit} previews at once; stop one to launch another.`,
        { limit },
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
      return { httpStatus: 200, body: launchView(winner, this.deps.urls) };
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
    return statusView(record, this.deps.urls, this.deps.clock.now(), {
      resources,
      requests: totalRequests(buckets),
    });
  }

  /** Idempotent: stopping a finished preview answers with its final state. */
  async stop(identity: Identity, generationId: string) {
    // The launcher or the health monitor may move the preview meanwhile: read again and retry.
    return this.retryingOnConflict(async () => {
      const record = await this.ownedPreview(identity, generationId);
      const stopped = isTerminal(record.status)
        ? record
        : await this.stopRecord(record, userActor(identity), 'stopped by user');
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
   * Moves a preview to `to` and records the audit event. The write sets only `changes` and the
   * status, and applies only while the stored status is still the one read (and `expected` holds):
   * a racing transition makes it throw a conflict, while writers of other fields do not.
   */
  async transition(
    record: PreviewRecord,
    to: PreviewStatus,
    actor: Actor,
    changes: PreviewChanges = {},
    event?: { type: PreviewEventType; reason?: string; detail?: Record<string, unknown> },
    expected?: PreviewCondition['equals'],
  ): Promise<PreviewRecord> {
    assertTransition(record.status, to);
    const now = this.deps.clock.now().toISOString();
    const next = await this.deps.previews.modify(
      record,
      { ...changes, status: to, updatedAt: now },
      { status: [record.status], ...(expected ? { equals: expected } : {}) },
    );
    if (isTerminal(to)) await this.deps.quotas.release(record.userId, record.previewId);
    if (event) await this.recordEvent(next, event.type, actor, event.reason, event.detail);
    await this.deps.notifier?.statusChanged(next);
    return next;
  }

  async fail(record: PreviewRecord, reported: NonNullable<PreviewRecord['failure']>): Promise<PreviewRecord> {
    const now = this.deps.clock.now().toISOString();
    // The last lines are the app's output: stored as every other way out shows them, redacted.
    const failure = redactedFailure(reported);
    countLaunchFailure(this.deps.serviceMetrics, failure.reason);
    return this.transition(
      record,
      'failed',
      { type: 'system', id: 'launcher' },
      // The timeline as the failing step saw it: only status changes write it, so it is current.
      { failure, statusReason: failure.message, stoppedAt: now, timeline: record.timeline },
      { type: 'failed', reason: failure.reason, detail: { step: failure.step, message: failure.message } },
    );
  }

  /**
   * Writes fields that are not the status (health, warnings), while the status is still the one
   * read and `expected` holds; other fields keep what other writers stored.
   */
  async update(
    record: PreviewRecord,
    changes: Omit<PreviewChanges, 'status'>,
    expected?: PreviewCondition['equals'],
  ): Promise<PreviewRecord> {
    return this.deps.previews.modify(
      record,
      { ...changes, updatedAt: this.deps.clock.now().toISOString() },
      { status: [record.status], ...(expected ? { equals: expected } : {}) },
    );
  }

  /**
   * Seed §4: more time, within the tier's extension length and count. The write applies only
   * while the expiry and the extension count are still those read, so of two racing extends with
   * one extension left exactly one succeeds and the other is refused.
   */
  async extend(identity: Identity, generationId: string, durationSeconds: number | undefined) {
    return this.retryingOnConflict(async () => {
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
      const newExpiresAt = new Date(Date.parse(record.expiresAt) + duration * 1000).toISOString();
      const extended = await this.deps.previews.modify(
        record,
        {
          expiresAt: newExpiresAt,
          extensionsUsed: record.extensionsUsed + 1,
          // The warning before the end is given again before the new end.
          expiryWarnedAt: undefined,
          updatedAt: this.deps.clock.now().toISOString(),
        },
        {
          status: extendableStatuses,
          equals: { expiresAt: record.expiresAt, extensionsUsed: record.extensionsUsed },
        },
      );
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
      const token = newPreviewToken();
      const rotated = await this.deps.previews.modify(
        record,
        { tokenHash: hashToken(token), updatedAt: this.deps.clock.now().toISOString() },
        { status: liveStatuses },
      );
      await this.recordEvent(rotated, 'token_rotated', userActor(identity), 'requested by the owner');
      await this.tokenRotated(rotated);
      return { previewInstanceId: rotated.previewId, previewToken: token };
    });
  }

  /** Ends the live connections opened with the preview's previous token; never fails. */
  async tokenRotated(record: PreviewRecord): Promise<void> {
    await this.deps.notifier?.tokenRotated(record);
  }

  /** The sweeper's stop of a preview whose session ended, unless it was extended meanwhile. */
  async expire(record: PreviewRecord): Promise<PreviewRecord> {
    return this.stopRecord(record, { type: 'system', id: 'sweeper' }, 'session expired', 'expired', {
      expiresAt: record.expiresAt ?? null,
    });
  }

  /** The sweeper's completion of a stop whose stopper failed or died before it finished. */
  async finishStop(record: PreviewRecord): Promise<PreviewRecord> {
    return this.stopRecord(
      record,
      { type: 'system', id: 'sweeper' },
      'a stop that did not finish was completed',
    );
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

  /** The sampler's stop of a preview that filled its tier's storage: reason `storage_limit: …`. */
  async stopForStorage(record: PreviewRecord, message: string): Promise<PreviewRecord> {
    if (isTerminal(record.status)) return record;
    return this.stopRecord(record, { type: 'system', id: 'resource-sampler' }, `storage_limit: ${message}`);
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
    expected?: PreviewCondition['equals'],
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
            expected,
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
