import type { AppEndpoint } from '../app-request.js';
import type { Clock } from '../clock.js';
import { hashToken, newEventId, newPreviewToken } from '../ids.js';
import type { ServiceStep } from '../launch-trace.js';
import {
  assertTransition,
  isTerminal,
  previewStatuses,
  servingStatuses,
  type PreviewStatus,
} from '../lifecycle.js';
import type { LiveEnding } from '../live-messages.js';
import type { LiveNotifier } from '../log-ports.js';
import type { EventStore, PreviewChanges, PreviewCondition, PreviewStore, QuotaStore } from '../ports.js';
import type { Actor, PreviewEventType, PreviewFailure, PreviewRecord } from '../preview.js';
import { redactedFailure } from '../preview-views.js';
import { countLaunchFailure, type ServiceMetrics } from '../service-metrics.js';
import type { TaskRunner } from '../task-runner.js';

export interface PreviewStateMachineDependencies {
  readonly previews: PreviewStore;
  readonly quotas: QuotaStore;
  readonly events: EventStore;
  /** Stops a preview's task on its way to `stopped` or `failed`; absent where no runtime is configured. */
  readonly runner: Pick<TaskRunner, 'stop'> | undefined;
  readonly clock: Clock;
  readonly serviceMetrics?: ServiceMetrics;
  /**
   * Told of every status change (the live stream's `status` messages) and of the connections that
   * must end (a finished preview, a replaced token); never fails a transition.
   */
  readonly notifier?: Pick<LiveNotifier, 'statusChanged' | 'closeConnections'>;
  /** Closes the connections kept to an app once its preview has stopped or moved to another task. */
  readonly appConnections?: { release(endpoint: AppEndpoint): void };
}

/** How a stop ends: its audit event, the condition of its first write, and what the live stream is told. */
export interface StopOptions {
  readonly finalEvent?: 'stopped' | 'expired';
  readonly expected?: PreviewCondition['equals'];
  /** `preview_stopped` unless said otherwise (the owner's delete, a restart). */
  readonly ending?: LiveEnding;
}

interface AuditEvent {
  readonly type: PreviewEventType;
  readonly reason?: string;
  readonly detail?: Record<string, unknown>;
}

/** Who ends a preview on the service's own decision, with no owner asking. */
type SystemStopper = 'maintenance' | 'operator';

/** Everything not finished. */
const liveStatuses: readonly PreviewStatus[] = previewStatuses.filter((status) => !isTerminal(status));
/** Where a session can still be extended: anything live but a preview being stopped. */
export const extendableStatuses: readonly PreviewStatus[] = liveStatuses.filter(
  (status) => status !== 'stopping',
);

const sweeper: Actor = { type: 'system', id: 'sweeper' };

/**
 * The preview record's state machine: every write to an existing preview goes through here. Each
 * is a targeted conditional write that sets only its own fields and applies only while what it
 * decided on still holds, so a racing writer makes it throw a `conflict` (the caller reads again)
 * while writers of other fields never do. A status change also records its audit event, releases
 * the quota slot when the preview finishes and tells the live stream.
 */
export class PreviewStateMachine {
  constructor(private readonly deps: PreviewStateMachineDependencies) {}

  /**
   * Moves a preview to `to` and records the audit event. The write sets only `changes` and the
   * status, and applies only while the stored status is still the one read (and `expected` holds).
   */
  async transition(
    record: PreviewRecord,
    to: PreviewStatus,
    actor: Actor,
    changes: PreviewChanges = {},
    event?: AuditEvent,
    expected?: PreviewCondition['equals'],
  ): Promise<PreviewRecord> {
    assertTransition(record.status, to);
    const now = this.deps.clock.now().toISOString();
    const next = await this.deps.previews.modify(
      record,
      { ...changes, status: to, updatedAt: now },
      { status: [record.status], ...(expected ? { equals: expected } : {}) },
    );
    if (record.endpoint && (isTerminal(to) || !sameEndpoint(record.endpoint, next.endpoint))) {
      this.deps.appConnections?.release(record.endpoint);
    }
    // Once the write has won, its consequences are independent of each other: written side by side.
    await Promise.all([
      isTerminal(to) ? this.deps.quotas.release(record.userId, record.previewId) : undefined,
      event ? this.recordEvent(next, event.type, actor, event.reason, event.detail) : undefined,
      this.deps.notifier?.statusChanged(next),
    ]);
    return next;
  }

  /**
   * Writes fields that are not the status (health, warnings, heartbeats), while the status is still
   * the one read and `expected` holds; other fields keep what other writers stored.
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
   * Keeps what was measured of a serving preview (its endpoints, its database's contents) while it
   * is still serving: health changes meanwhile do not matter, and `updatedAt` is left alone.
   */
  async recordMeasurement(
    record: PreviewRecord,
    changes: Pick<PreviewChanges, 'generatedEndpoints' | 'databaseCount'>,
  ): Promise<PreviewRecord> {
    return this.deps.previews.modify(record, changes, { status: servingStatuses });
  }

  /**
   * Stamps a launch in progress as alive (`launchHeartbeatAt`) while the preview is in one of
   * `statuses`: the launch's own status changes among them do not stop the stamps, and nothing
   * else is written, `updatedAt` included.
   */
  async stampLaunchHeartbeat(record: PreviewRecord, statuses: readonly PreviewStatus[]): Promise<void> {
    await this.deps.previews.modify(
      record,
      { launchHeartbeatAt: this.deps.clock.now().toISOString() },
      { status: statuses },
    );
  }

  /**
   * Keeps the service's own steps of the last launch on the record. It sets that field alone, whatever
   * the status meanwhile: no decision rests on it, so no other writer's change can be lost.
   */
  async saveLaunchTrace(record: PreviewRecord, steps: readonly ServiceStep[]): Promise<void> {
    await this.deps.previews.modify(record, { launchTrace: steps });
  }

  /** A launch (or recovery) step failed: the preview ends `failed`, with the redacted diagnosis. */
  async fail(record: PreviewRecord, reported: PreviewFailure): Promise<PreviewRecord> {
    const now = this.deps.clock.now().toISOString();
    // The last lines are the app's output: stored as every other way out shows them, redacted.
    const failure = redactedFailure(reported);
    countLaunchFailure(this.deps.serviceMetrics, failure.reason);
    const failed = await this.transition(
      record,
      'failed',
      { type: 'system', id: 'launcher' },
      // The timeline as the failing step saw it: only status changes write it, so it is current.
      { failure, statusReason: failure.message, stoppedAt: now, timeline: record.timeline },
      { type: 'failed', reason: failure.reason, detail: { step: failure.step, message: failure.message } },
    );
    await this.endConnections(failed, { cause: 'preview_failed', detail: failure.reason });
    return failed;
  }

  /**
   * Stops a preview: `stopping` (unless it already is), its task stopped, then `stopped` with
   * `finalEvent`. A preview already `stopping` is finished from there, so a stop cut off midway
   * can be completed. `expected` guards the first write. The preview's connections end last.
   */
  async stop(
    record: PreviewRecord,
    actor: Actor,
    reason: string,
    { finalEvent = 'stopped', expected, ending }: StopOptions = {},
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
    const stopped = await this.transition(
      stopping,
      'stopped',
      actor,
      { stoppedAt: this.deps.clock.now().toISOString() },
      { type: finalEvent, reason },
    );
    await this.endConnections(stopped, ending ?? { cause: 'preview_stopped', detail: reason });
    return stopped;
  }

  /** The sweeper's stop of a preview whose session ended, unless it was extended meanwhile. */
  async expire(record: PreviewRecord): Promise<PreviewRecord> {
    return this.stop(record, sweeper, 'session expired', {
      finalEvent: 'expired',
      expected: { expiresAt: record.expiresAt ?? null },
    });
  }

  /** The sweeper's completion of a stop whose stopper failed or died before it finished. */
  async finishStop(record: PreviewRecord): Promise<PreviewRecord> {
    return this.stop(record, sweeper, 'a stop that did not finish was completed');
  }

  /**
   * A stop the service decides on its own, not the owner: maintenance, or a task an operator stopped
   * (the preview ends rather than coming back). A finished preview is returned as it is.
   */
  async halt(record: PreviewRecord, stopper: SystemStopper, reason: string): Promise<PreviewRecord> {
    if (isTerminal(record.status)) return record;
    return this.stop(record, { type: 'system', id: stopper }, reason);
  }

  /** The sampler's stop of a preview that filled its tier's storage: reason `storage_limit: …`. */
  async stopForStorage(record: PreviewRecord, message: string): Promise<PreviewRecord> {
    if (isTerminal(record.status)) return record;
    return this.stop(record, { type: 'system', id: 'resource-sampler' }, `storage_limit: ${message}`);
  }

  /** The sweeper's end of a preview whose launch never finished: its task stopped, the preview failed. */
  async abandon(record: PreviewRecord, reason: string): Promise<PreviewRecord> {
    await this.deps.runner?.stop(record.previewId);
    return this.fail(record, { step: 'launch', reason: 'timeout', message: reason });
  }

  /**
   * Adds `seconds` to the session. The write applies only while the expiry and the extension count
   * are still those read, so of two racing extends with one extension left exactly one succeeds;
   * status changes meanwhile (health) do not matter while the preview stays extendable.
   */
  async extend(
    record: PreviewRecord & { readonly expiresAt: string },
    seconds: number,
    actor: Actor,
  ): Promise<{ record: PreviewRecord; newExpiresAt: string }> {
    const newExpiresAt = new Date(Date.parse(record.expiresAt) + seconds * 1000).toISOString();
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
    await this.recordEvent(extended, 'extended', actor, undefined, {
      durationSeconds: seconds,
      newExpiresAt,
    });
    return { record: extended, newExpiresAt };
  }

  /**
   * Replaces the preview's token while it is live; the new token is returned once, and the live
   * connections opened with the previous one end.
   */
  async rotateToken(record: PreviewRecord, actor: Actor): Promise<{ record: PreviewRecord; token: string }> {
    const token = newPreviewToken();
    const rotated = await this.deps.previews.modify(
      record,
      { tokenHash: hashToken(token), updatedAt: this.deps.clock.now().toISOString() },
      { status: liveStatuses },
    );
    await this.recordEvent(rotated, 'token_rotated', actor, 'requested by the owner');
    await this.endConnections(rotated, { cause: 'token_rotated' });
    return { record: rotated, token };
  }

  /**
   * Ends the live connections that may not stay (all of a finished preview's, those opened with a
   * replaced token), telling them why; never fails.
   */
  async endConnections(record: PreviewRecord, ending: LiveEnding): Promise<void> {
    await this.deps.notifier?.closeConnections(record, ending);
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
}

function sameEndpoint(a: AppEndpoint, b: AppEndpoint | undefined): boolean {
  return a.host === b?.host && a.port === b.port;
}
