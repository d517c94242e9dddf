import { setTimeout as sleep } from 'node:timers/promises';
import type { AppHttpClient } from '../app-request.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { snapshotKey, type DatabaseSnapshot, type DatabaseSnapshotSettings } from '../database-snapshots.js';
import type { Generation } from '../generation.js';
import { hashToken, newDatabasePassword, newPreviewToken } from '../ids.js';
import { parseJson } from '../json-input.js';
import {
  diagnoseTaskFailure,
  healthNotFoundFailure,
  unreachableFailure,
  type DiagnosisContext,
} from '../launch-diagnosis.js';
import { LaunchTrace, untraced, type TraceRecorder } from '../launch-trace.js';
import { isServing, isTerminal, type PreviewStatus } from '../lifecycle.js';
import type { MaintenanceSwitch } from '../maintenance.js';
import { apiEndpoints, maxStoredEndpoints, routesOf } from '../openapi-endpoints.js';
import { secretsOf } from '../log-redaction.js';
import type { GenerationStore, PreviewStore } from '../ports.js';
import type { Actor, PreviewFailure, PreviewRecord, TimelineStep } from '../preview.js';
import { fitToCapacity } from '../resource-fit.js';
import {
  buildTaskDefinition,
  databasePorts,
  defaultDatabaseImages,
  type PreviewTaskDefinition,
} from '../task-definition.js';
import {
  taskFailureOf,
  type BuiltImage,
  type Endpoint,
  type ImageBuilder,
  type RunningTask,
  type TaskDescription,
  type TaskRunner,
} from '../task-runner.js';
import { serviceMetricNames, type ServiceMetrics } from '../service-metrics.js';
import type { Tiers } from '../tiers.js';
import type { PreviewStateMachine } from './preview-state-machine.js';

export interface PreviewLauncherDependencies {
  readonly previews: PreviewStore;
  readonly generations: GenerationStore;
  readonly stateMachine: PreviewStateMachine;
  readonly imageBuilder: ImageBuilder;
  readonly runner: TaskRunner;
  readonly tiers: Tiers;
  readonly clock: Clock;
  readonly serviceMetrics?: ServiceMetrics;
  readonly databaseImages?: Partial<Record<'postgresql' | 'mongodb', string>>;
  /** Where the image build's output goes, line by line (the preview's `build` log source). */
  readonly buildLog?: (previewId: string, line: string) => void;
  /** While on, a launch that has not started yet and every recovery stop the preview instead. */
  readonly maintenance?: MaintenanceSwitch;
  /** Reaches the app the way the proxy does: a preview is healthy only once it answers this way. */
  readonly client: AppHttpClient;
  /** Told of every launch that failed through the service's own fault (reason `internal`). */
  readonly onInternalError?: (fault: { previewId: string; step: string; error: unknown }) => void;
  /** How often a starting app's health endpoint is asked through the proxy's path. */
  readonly reachPollMs?: number;
  /** How often a launch in progress stamps its record (`launchHeartbeatAt`); 3 s unless set. */
  readonly heartbeatSeconds?: number;
  readonly onHeartbeatError?: (error: unknown) => void;
  /** Where migrated and seeded databases are kept for later launches; absent: every launch migrates. */
  readonly databaseSnapshots?: DatabaseSnapshotSettings;
}

/** A launch's database: from a snapshot (`restored`), or to be kept as one once healthy (`key`). */
interface DatabasePlan {
  readonly key: string;
  readonly restored: DatabaseSnapshot | undefined;
}

/** A launch failure already diagnosed, on its way to the preview's record. */
class LaunchFailed extends Error {
  constructor(readonly failure: PreviewFailure) {
    super(failure.message);
  }
}

const launcher: Actor = { type: 'system', id: 'launcher' };
const monitor: Actor = { type: 'system', id: 'health-monitor' };
const maxObserveAttempts = 3;
const inMaintenance = 'the service is in maintenance';
const defaultHeartbeatSeconds = 3;
/** Beats missed before a launcher counts as gone: a busy event loop or a slow write is not death. */
const missedHeartbeats = 4;
/** A launch whose launcher keeps dying is given up after this many takeovers. */
const maxTakeovers = 3;
/** Statuses in which a launcher (or a recovery) owns the preview. */
const takeoverStatusList: readonly PreviewStatus[] = ['requested', 'building', 'launching', 'recovering'];
const takeoverStatuses = new Set<PreviewStatus>(takeoverStatusList);
/** One ask of the health endpoint while the launch waits for it to answer from outside. */
const reachLimits = { timeoutMs: 2_000, maxResponseBytes: 64 * 1024 };
const openApiLimits = { timeoutMs: 5_000, maxResponseBytes: 2 * 1024 * 1024 };
/**
 * The longest wait for an app that answers inside its task to answer from outside: one health
 * interval, at most a minute (the handler following ECS events must finish well within its time).
 */
const maxReachWaitSeconds = 60;
/**
 * Between two asks of a starting app's health endpoint: the runtime has just seen it answer inside
 * its task, so the answer from outside is a few milliseconds away (bounded by the wait above).
 */
const defaultReachPollMs = 25;

/**
 * The asynchronous part of a launch: build (or reuse) the image, start the task, and follow the
 * task's state to healthy — or record why not and leave nothing running.
 */
export class PreviewLauncher {
  /** Snapshots being made by this process, by key: one capture per key at a time. */
  private readonly capturing = new Map<string, Promise<void>>();

  constructor(private readonly deps: PreviewLauncherDependencies) {}

  /**
   * Runs a launch: the first time for a `requested` preview, or as a takeover of a launch whose
   * launcher is gone (its heartbeat is stale), which resumes after the last completed step: the
   * image is reused, the lost launcher's containers are removed and the task starts afresh.
   * Whoever claims the preview first (a conditional write) runs it; any other caller returns.
   */
  async start(previewId: string): Promise<void> {
    const trace = new LaunchTrace(this.deps.clock);
    const entered = this.deps.clock.now();
    const found = await trace.span('record.read', () => this.deps.previews.getById(previewId));
    if (!found || !takeoverStatuses.has(found.status)) return;
    const takeover = found.status !== 'requested' || found.launchHeartbeatAt !== undefined;
    // From the launch request's record to this launcher: the asynchronous invocation's share.
    if (!takeover) trace.add('launch.handoff', new Date(found.createdAt), entered);
    if (
      found.status === 'requested' &&
      (await trace.span('maintenance.check', async () => this.deps.maintenance?.isOn()))
    ) {
      await this.deps.stateMachine.halt(found, 'maintenance', inMaintenance);
      return;
    }
    if (takeover && !this.launcherIsGone(found)) return;
    const record = await trace.span('record.claim', () => this.claim(found, takeover));
    if (!record) return;
    let launched: LaunchedTask | undefined;
    await this.keepingAlive(record, async () => {
      try {
        if (takeover) await trace.span('task.stop-previous', () => this.deps.runner.stop(previewId));
        launched = await this.launchFrom(record, trace);
      } catch (error) {
        await this.failLaunch(previewId, error, record.launchTakeovers ?? 0);
      }
    });
    await this.saveTrace(record, trace);
    if (launched) await this.keepSnapshot(record, launched);
  }

  /**
   * After a healthy launch that migrated and seeded its database, makes the snapshot later launches
   * start from; then evicts by age and count. Failures are reported, never the launch's.
   */
  private async keepSnapshot(record: PreviewRecord, launched: LaunchedTask): Promise<void> {
    const settings = this.deps.databaseSnapshots;
    const plan = launched.database;
    if (!settings || !plan || plan.restored) return;
    const context = { key: plan.key, generationId: record.generationId };
    let capture = this.capturing.get(plan.key);
    if (!capture) {
      capture = this.deps.previews
        .getById(record.previewId)
        .then(async (current) => {
          if (!current?.healthyAt) return;
          await settings.store.capture({
            key: plan.key,
            generationId: record.generationId,
            task: launched.snapshotTask,
          });
          await settings.store.evict({
            maxCount: settings.maxCount,
            maxAgeSeconds: settings.maxAgeSeconds,
            now: this.deps.clock.now(),
          });
        })
        .catch((error: unknown) => settings.onError(error, context))
        .finally(() => this.capturing.delete(plan.key));
      this.capturing.set(plan.key, capture);
    }
    await capture;
  }

  /**
   * The launch's database plan: a PostgreSQL database that migrations or seed fill is keyed by what
   * produces its data; a snapshot of that key is used unless the launch asked for a fresh database.
   * A store that cannot answer (ECR throttled, a database image not in ECR yet) is reported, and the
   * launch migrates and seeds as without snapshots.
   */
  private async databasePlan(
    record: PreviewRecord,
    generation: Generation,
    appImage: string,
  ): Promise<DatabasePlan | undefined> {
    const settings = this.deps.databaseSnapshots;
    const migrated = generation.requiresMigrations && generation.migrationCommand !== undefined;
    const seeded = generation.seedDataIncluded && generation.seedCommand !== undefined;
    if (!settings || generation.dbType !== 'postgresql' || !(migrated || seeded)) return undefined;
    const databaseImage = this.deps.databaseImages?.postgresql ?? defaultDatabaseImages.postgresql;
    try {
      const key = snapshotKey({
        appImage,
        databaseImage,
        databaseImageId: await settings.store.imageId(databaseImage),
        migrationCommand: migrated ? generation.migrationCommand : undefined,
        seedCommand: seeded ? generation.seedCommand : undefined,
        environment: generation.env,
      });
      const restored = record.freshDatabase ? undefined : await settings.store.find(key);
      return { key, restored };
    } catch (error) {
      settings.onError(error, { generationId: record.generationId });
      return undefined;
    }
  }

  /** Keeps the launch's trace on its record, once the launch is over: never on its critical path. */
  private async saveTrace(record: PreviewRecord, trace: LaunchTrace): Promise<void> {
    try {
      await this.deps.stateMachine.saveLaunchTrace(record, trace.steps());
    } catch (error) {
      // The preview may be gone meanwhile (a restart replaced it): the trace goes with it.
      if (!(error instanceof AppError && error.code === 'conflict')) this.deps.onHeartbeatError?.(error);
    }
  }

  /** True when a launch in progress has not been stamped for `missedHeartbeats` heartbeats. */
  launcherIsGone(record: PreviewRecord): boolean {
    const stamped = Date.parse(record.launchHeartbeatAt ?? record.updatedAt);
    return stamped + missedHeartbeats * this.heartbeatMs() <= this.deps.clock.now().getTime();
  }

  /** Makes the launch this launcher's own, or undefined when another launcher got there first. */
  private async claim(record: PreviewRecord, takeover: boolean): Promise<PreviewRecord | undefined> {
    const takeovers = (record.launchTakeovers ?? 0) + (takeover ? 1 : 0);
    try {
      // Conditioned on the stamp as read: of two claimants, one wins.
      const claimed = await this.deps.stateMachine.update(
        record,
        { launchHeartbeatAt: this.deps.clock.now().toISOString(), launchTakeovers: takeovers },
        { launchHeartbeatAt: record.launchHeartbeatAt ?? null },
      );
      if (takeovers <= maxTakeovers) return claimed;
      await this.deps.runner.stop(record.previewId);
      await this.deps.stateMachine.fail(claimed, {
        step: 'launch',
        reason: 'internal',
        message: `The launch was interrupted ${takeovers} times and was given up.`,
      });
      return undefined;
    } catch (error) {
      if (error instanceof AppError && error.code === 'conflict') return undefined;
      throw error;
    }
  }

  /** Stamps the record while `work` runs, so a sweep can tell this launch is alive. */
  private async keepingAlive(record: PreviewRecord, work: () => Promise<void>): Promise<void> {
    const timer = setInterval(() => {
      void this.deps.stateMachine.stampLaunchHeartbeat(record, takeoverStatusList).catch((error: unknown) => {
        // The launch is over (or the preview replaced): there is nothing left to keep alive.
        if (!(error instanceof AppError && error.code === 'conflict')) this.deps.onHeartbeatError?.(error);
      });
    }, this.heartbeatMs());
    try {
      await work();
    } finally {
      clearInterval(timer);
    }
  }

  private heartbeatMs(): number {
    return (this.deps.heartbeatSeconds ?? defaultHeartbeatSeconds) * 1000;
  }

  /**
   * The launch from wherever `record` is: build unless built, then the task. A runner that can
   * starts the task while the image builds (the database comes up meanwhile); the app's
   * containers wait for the image.
   */
  private async launchFrom(record: PreviewRecord, trace: TraceRecorder): Promise<LaunchedTask> {
    const started = Date.now();
    // The status write and the image (its lookup, or its build) do not wait for each other.
    const [building, { source, image }] = await allSettledOrThrow(
      record.status === 'requested'
        ? trace.span('record.building', () =>
            this.step(record, 'building', 'build', { type: 'build_started' }),
          )
        : Promise.resolve(record),
      (async () => {
        const loaded = await trace.span('generation.load', () => this.sourceOf(record));
        const built = trace.span('image.ensure', () => this.buildImage(loaded, record.previewId));
        // Awaited below, by whatever needs the image: its failure is the launch's.
        built.catch(() => undefined);
        return { source: loaded, image: built };
      })(),
    );
    const launchingOnceBuilt = async (current: PreviewRecord) =>
      this.launching(current, await image, started, trace);
    const imageRef = this.deps.runner.startsBeforeAppImage
      ? this.deps.imageBuilder.imageRefOf?.(source)
      : undefined;
    if (imageRef === undefined) {
      const current = await launchingOnceBuilt(building);
      return this.runTask(current, source.generation, (await image).imageRef, trace);
    }
    return this.runTask(building, source.generation, imageRef, trace, {
      ready: image,
      launchingOnceBuilt,
    });
  }

  /** The record moved on to `launching` once its image is there. */
  private async launching(
    current: PreviewRecord,
    image: BuiltImage,
    started: number,
    trace: TraceRecorder,
  ): Promise<PreviewRecord> {
    if (current.status === 'building') {
      const built = current;
      return trace.span('record.launching', () =>
        this.step(built, 'launching', 'start', {
          type: 'built',
          detail: { imageRef: image.imageRef, cached: image.cached, durationMs: Date.now() - started },
        }),
      );
    }
    if (current.status === 'recovering') {
      const recovering = current;
      return trace.span('record.launching', () =>
        this.deps.stateMachine.transition(recovering, 'launching', monitor, {
          timeline: recovering.timeline,
          launchHeartbeatAt: this.deps.clock.now().toISOString(),
        }),
      );
    }
    return current;
  }

  /**
   * Replaces a broken task with a new one, with a new preview token (the old one stops working),
   * up to the tier's number of restarts; past that the preview fails with the reason.
   */
  async recover(record: PreviewRecord, reason: string): Promise<void> {
    // A preview that would come back during maintenance is stopped instead: nothing is resurrected.
    if (await this.deps.maintenance?.isOn()) {
      await this.deps.stateMachine.halt(record, 'maintenance', `${reason}; not recovered: ${inMaintenance}`);
      return;
    }
    // A runtime that is away (an engine restarting) cannot host a new task: the next check tries again.
    if (this.deps.runner.available && !(await this.deps.runner.available())) return;
    const maxRestarts = this.deps.tiers[record.tier].maxRestarts;
    if (record.restarts >= maxRestarts) {
      await this.deps.runner.stop(record.previewId);
      await this.deps.stateMachine.fail(record, {
        step: 'app',
        reason: 'restart_limit',
        message: `The preview kept failing (${reason}); it was restarted ${record.restarts} times, the most the ${record.tier} tier allows.`,
      });
      return;
    }
    const now = this.deps.clock.now().toISOString();
    this.deps.serviceMetrics?.count(serviceMetricNames.recoveries);
    const recovering = await this.deps.stateMachine.transition(
      record,
      'recovering',
      monitor,
      {
        statusReason: reason,
        recoveringSince: now,
        // The new task starts with a clean health record, and a new database to count.
        health: undefined,
        databaseCount: undefined,
        restarts: record.restarts + 1,
        tokenHash: hashToken(newPreviewToken()),
        timeline: record.timeline,
        launchHeartbeatAt: now,
      },
      { type: 'recovering', reason, detail: { restart: record.restarts + 1, maxRestarts } },
    );
    await this.deps.stateMachine.recordEvent(
      recovering,
      'token_rotated',
      monitor,
      'a recovered preview gets a new token',
    );
    await this.deps.stateMachine.endConnections(recovering, { cause: 'preview_restarted', detail: reason });
    await this.keepingAlive(recovering, async () => {
      try {
        await this.deps.runner.stop(record.previewId);
        await this.launchFrom(recovering, untraced);
      } catch (error) {
        await this.failLaunch(record.previewId, error, recovering.launchTakeovers ?? 0);
      }
    });
  }

  private async sourceOf(record: PreviewRecord) {
    const source = await this.deps.generations.load(record.generationId);
    if (!source) throw new AppError('not_found', `Generation ${record.generationId} is gone.`);
    return source;
  }

  /** The generation's image; a failed build is diagnosed (a package pip cannot install, …). */
  private buildImage(source: Awaited<ReturnType<PreviewLauncher['sourceOf']>>, previewId: string) {
    return diagnosed(
      () => this.deps.imageBuilder.ensureImage(source, (line) => this.deps.buildLog?.(previewId, line)),
      () => diagnosisContext(source.generation),
    );
  }

  /**
   * Starts the task of the generation's image. With `building`, the image is still being built:
   * the runner starts what does not need it, and the record moves on to `launching` once it is there.
   */
  private async runTask(
    launching: PreviewRecord,
    generation: Generation,
    imageRef: string,
    trace: TraceRecorder,
    building?: {
      readonly ready: Promise<BuiltImage>;
      readonly launchingOnceBuilt: (current: PreviewRecord) => Promise<PreviewRecord>;
    },
  ): Promise<LaunchedTask> {
    // A local engine smaller than the tier runs the app with what it has; Fargate sizes tasks itself.
    const capacity = await trace.span('runtime.capacity', async () => this.deps.runner.capacity?.());
    const limits = fitToCapacity(launching.resources, capacity);
    const record =
      limits.reason === undefined && launching.appliedLimits === undefined
        ? launching
        : await trace.span('record.limits', () =>
            this.deps.stateMachine.update(launching, {
              appliedLimits: limits.reason === undefined ? undefined : limits,
            }),
          );
    const effective = this.effectiveGeneration(generation, record);
    const database = await trace.span('database.snapshot-lookup', () =>
      this.databasePlan(record, effective, imageRef),
    );
    const taskOf = (snapshot: DatabaseSnapshot | undefined) =>
      buildTaskDefinition({
        previewId: record.previewId,
        generation: effective,
        tier: { ...this.deps.tiers[record.tier], memory: limits.memoryMb, cpu: limits.cpu },
        appImage: imageRef,
        databasePassword: newDatabasePassword(),
        ...(this.deps.databaseImages ? { databaseImages: this.deps.databaseImages } : {}),
        ...(snapshot ? { databaseSnapshot: snapshot } : {}),
      });
    const task = taskOf(database?.restored);
    const run = diagnosed(
      () => this.deps.runner.run(task, trace, building && { imageRef, ready: building.ready }),
      () => diagnosisContext(effective, task),
    );
    // A failed build ends the run too: the build's failure is the one reported.
    const [, running] = await allSettledOrThrow(
      building ? building.launchingOnceBuilt(record) : Promise.resolve(record),
      run,
    );
    const description = await trace.span('task.describe', () => this.deps.runner.describe(record.previewId));
    const restoredSteps = database?.restored ? restoredStepsOf(effective) : [];
    if (description) await this.observe(description, running, trace, restoredSteps);
    // The snapshot is made with a password of its own: the preview's never leaves its task.
    return { ...(database ? { database } : {}), snapshotTask: taskOf(undefined) };
  }

  /**
   * Reads the preview's task from the runtime and applies it: what a task state change (an ECS
   * event in AWS, a Docker event locally) triggers. A preview whose task is gone is recovered, or failed if it was never healthy.
   */
  async refresh(previewId: string): Promise<void> {
    // Read first: the engine is not asked about a task that does not matter (deleting many
    // previews at once, it would be asked about each while it removes them).
    const before = await this.deps.previews.getById(previewId);
    if (!before || taskIgnored(before.status)) return;
    // No launch in this process vouches for the app here: its own check is asked.
    const description = await this.deps.runner.describe(previewId, { checkApp: true });
    if (description) return this.observe(description);
    // Read again: the task may be gone because the preview was stopped meanwhile.
    const record = await this.deps.previews.getById(previewId);
    if (!record || !isServing(record.status)) return;
    if (record.healthyAt) {
      await this.recover(record, 'its task was stopped or removed outside the service');
    } else if (!this.deps.runner.runWaitsForTask) {
      await this.deps.stateMachine.fail(record, {
        step: 'app',
        reason: 'task_vanished',
        message: 'The task stopped before the preview was first healthy.',
      });
    }
  }

  /**
   * Applies what the runtime reports about a preview's task. Another handler may move the
   * preview at the same moment: on a conflict the current state is read again and re-applied.
   */
  async observe(
    description: TaskDescription,
    running?: RunningTask,
    trace: TraceRecorder = untraced,
    restoredSteps: readonly RestoredStep[] = [],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyDescription(description, running, trace, restoredSteps);
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'conflict') || attempt >= maxObserveAttempts)
          throw error;
      }
    }
  }

  private async applyDescription(
    description: TaskDescription,
    running: RunningTask | undefined,
    trace: TraceRecorder,
    restoredSteps: readonly RestoredStep[],
  ): Promise<void> {
    const record = await trace.span('record.read', () => this.deps.previews.getById(description.previewId));
    if (!record || taskIgnored(record.status)) return;
    // An operator's stop (e.g. `aws ecs stop-task`) ends the preview: recovering it would undo the stop.
    if (description.stoppedByOperator) {
      await this.deps.stateMachine.halt(record, 'operator', 'its task was stopped outside the service');
      return;
    }
    const reported = description.containers.find((c) => c.name === 'app');
    // A runner that waited for the health check has seen it pass, even if the engine's own
    // periodic check has not run yet.
    const app =
      reported && running?.appHealthy && reported.state === 'running'
        ? { ...reported, state: 'healthy' as const }
        : reported;
    const endpoint = running?.endpoint ?? description.endpoint;
    const runtime = {
      taskId: description.taskId,
      ...(endpoint ? { endpoint: { host: endpoint.host, port: endpoint.port } } : {}),
    };
    const now = this.deps.clock.now().toISOString();
    // The timeline is the first launch's; a recovery's new task does not rewrite it.
    const timeline = record.healthyAt
      ? record.timeline
      : mergeTimeline(record.timeline, containerTimeline(description, now, restoredSteps));

    // The bridge's end never ends the task: an app it could not bridge is diagnosed as unreachable.
    const stoppedContainer = description.containers.find(
      (c) =>
        c.name !== 'bridge' &&
        c.state === 'exited' &&
        (c.name === 'app' || c.oomKilled || (c.exitCode ?? 0) !== 0),
    );
    // Only a preview that has been healthy is recovered; a crash before that is a failed launch.
    if (stoppedContainer && isServing(record.status) && record.healthyAt) {
      const why = stoppedContainer.oomKilled
        ? `the ${stoppedContainer.name} container ran out of memory`
        : `the ${stoppedContainer.name} container stopped (exit code ${stoppedContainer.exitCode ?? 'unknown'})`;
      await this.recover({ ...record, timeline }, why);
      return;
    }
    // A runner that waits for its task reports a failed launch itself, with the diagnosis.
    if (stoppedContainer && this.deps.runner.runWaitsForTask && !running) return;
    if (stoppedContainer) {
      await this.deps.runner.stop(record.previewId);
      await this.deps.stateMachine.fail(
        { ...record, timeline },
        {
          step: stoppedContainer.name,
          reason: stoppedContainer.oomKilled ? 'out_of_memory' : 'exit_nonzero',
          message: stoppedContainer.oomKilled
            ? `The ${stoppedContainer.name} container ran out of memory.`
            : `The ${stoppedContainer.name} container stopped (exit code ${stoppedContainer.exitCode ?? 'unknown'}).`,
          ...(stoppedContainer.exitCode === undefined ? {} : { exitCode: stoppedContainer.exitCode }),
        },
      );
      return;
    }
    if (!app || (app.state !== 'running' && app.state !== 'healthy')) return;

    let current = record;
    if (current.status === 'launching') {
      const launching = current;
      current = await trace.span('record.running', () =>
        this.deps.stateMachine.transition(
          launching,
          'running',
          launcher,
          { ...runtime, startedAt: app.startedAt ?? now, timeline },
          { type: 'started' },
        ),
      );
    }
    if (app.state === 'healthy' && current.status === 'running') {
      // Healthy means reachable: through the endpoint the proxy and the health monitor use.
      const running = current;
      const unreachable = endpoint
        ? await trace.span('app.reachable', () => this.awaitReachable(running, endpoint))
        : undefined;
      if (unreachable) {
        await this.deps.runner.stop(current.previewId);
        await this.deps.stateMachine.fail(current, unreachable);
        return;
      }
      if (!endpoint) return;
      const firstHealthy = current.healthyAt === undefined;
      if (firstHealthy) {
        this.deps.serviceMetrics?.milliseconds(
          serviceMetricNames.launchDuration,
          Date.parse(now) - Date.parse(current.createdAt),
        );
      }
      const reached = current;
      const healthy = await trace.span('record.healthy', () =>
        this.deps.stateMachine.transition(
          reached,
          'healthy',
          launcher,
          firstHealthy
            ? {
                ...runtime,
                healthyAt: now,
                expiresAt: new Date(Date.parse(now) + current.sessionSeconds * 1000).toISOString(),
                // The container steps as measured now: another handler may have moved it to running.
                timeline: mergeTimeline(timeline, [{ step: 'first_healthy', startedAt: now, endedAt: now }]),
              }
            : { ...runtime, recoveringSince: undefined },
          { type: reached.recoveringSince ? 'recovered' : 'healthy' },
        ),
      );
      if (healthy.generatedEndpoints === undefined) await this.recordEndpoints(healthy, endpoint);
    }
  }

  /**
   * Reads the app's endpoints from its OpenAPI document, once, after it turned healthy (the healthy
   * status does not wait for it), and keeps them on the record for the status.
   */
  private async recordEndpoints(record: PreviewRecord, endpoint: Endpoint): Promise<void> {
    const endpoints = apiEndpoints(await this.openApiDocument(record, endpoint)).slice(0, maxStoredEndpoints);
    // Stopped meanwhile, or a store that failed: a healthy preview is not failed for its listing,
    // and its next recovery reads the document again.
    await this.deps.stateMachine
      .recordMeasurement(record, { generatedEndpoints: endpoints })
      .catch(() => undefined);
  }

  /** The app's OpenAPI document as it serves it through `endpoint`, parsed; undefined when it serves none. */
  private async openApiDocument(record: PreviewRecord, endpoint: Endpoint): Promise<unknown> {
    const source = await this.deps.generations.load(record.generationId);
    if (!source) return undefined;
    try {
      const response = await this.deps.client.send(
        endpoint,
        { method: 'GET', target: source.generation.openapiPath, headers: { accept: 'application/json' } },
        openApiLimits,
      );
      const document = parseJson(response.body.toString('utf8'));
      return response.statusCode === 200 && document.ok ? document.value : undefined;
    } catch {
      // No answer: the app lists no endpoints.
      return undefined;
    }
  }

  /**
   * Asks the app's health endpoint through `endpoint` until it answers 2xx (undefined), for at most
   * one health interval; else the diagnosed failure: 404 names routes the app has, and an app that
   * never answers is named by what it listens on (loopback only, another port) where the runtime
   * can read the task's sockets.
   */
  private async awaitReachable(
    record: PreviewRecord,
    endpoint: Endpoint,
  ): Promise<PreviewFailure | undefined> {
    const healthPath = record.healthCheck.endpoint;
    const waitMs = Math.min(record.healthCheck.intervalSeconds, maxReachWaitSeconds) * 1000;
    const started = performance.now();
    let lastOutcome: string;
    for (;;) {
      try {
        const response = await this.deps.client.send(
          endpoint,
          { method: 'GET', target: healthPath, headers: { accept: 'application/json' } },
          reachLimits,
        );
        if (response.statusCode >= 200 && response.statusCode < 300) return undefined;
        if (response.statusCode === 404) return this.healthNotFound(record, endpoint);
        lastOutcome = `it answered ${response.statusCode}`;
      } catch (error) {
        lastOutcome = error instanceof Error ? error.message : 'no answer';
      }
      if (performance.now() - started >= waitMs) break;
      await sleep(this.deps.reachPollMs ?? defaultReachPollMs);
    }
    const source = await this.deps.generations.load(record.generationId);
    const [listeners, lastLines] = await Promise.all([
      this.deps.runner.listeners?.(record.previewId),
      this.deps.runner.lastLines?.(record.previewId, 'app') ?? [],
    ]);
    return unreachableFailure({
      listeners,
      context: diagnosisContext(source ? this.effectiveGeneration(source.generation, record) : undefined),
      healthPath,
      endpoint,
      waitedSeconds: Math.round(waitMs / 1000),
      lastOutcome,
      lastLines: lastLines ?? [],
    });
  }

  private async healthNotFound(record: PreviewRecord, endpoint: Endpoint): Promise<PreviewFailure> {
    const routes = routesOf(apiEndpoints(await this.openApiDocument(record, endpoint)));
    const lastLines = (await this.deps.runner.lastLines?.(record.previewId, 'app')) ?? [];
    return healthNotFoundFailure({ healthPath: record.healthCheck.endpoint, routes, lastLines, secrets: [] });
  }

  /** The generation as this preview runs it: the launch request may override the database. */
  private effectiveGeneration(generation: Generation, record: PreviewRecord): Generation {
    return {
      ...generation,
      dbType: record.dbType,
      requiresMigrations: generation.requiresMigrations && record.autoMigrateDatabase,
      seedDataIncluded: generation.seedDataIncluded && record.autoMigrateDatabase,
    };
  }

  private async step(
    record: PreviewRecord,
    to: 'building' | 'launching',
    timelineStep: TimelineStep['step'],
    event: { type: 'build_started' | 'built'; detail?: Record<string, unknown> },
  ): Promise<PreviewRecord> {
    const now = this.deps.clock.now().toISOString();
    const timeline = record.timeline.map((s) => (s.endedAt ? s : { ...s, endedAt: now }));
    return this.deps.stateMachine.transition(
      record,
      to,
      launcher,
      // Stamped with each step: the record written here must not carry an older heartbeat.
      { timeline: [...timeline, { step: timelineStep, startedAt: now }], launchHeartbeatAt: now },
      event,
    );
  }

  /** Cleans up whatever was started and records why the launch failed, unless it was stopped meanwhile. */
  private async failLaunch(previewId: string, error: unknown, takeovers: number): Promise<void> {
    // Taken over by another launcher meanwhile (this one was thought gone): the task is theirs.
    const taken = await this.deps.previews.getById(previewId);
    if (taken && (taken.launchTakeovers ?? 0) !== takeovers) return;
    // A runtime that is away cannot clean up now: the record is failed all the same, and the
    // sweeper removes what is left (an orphan) once the runtime answers again.
    await this.deps.runner.stop(previewId).catch(() => undefined);
    const current = await this.deps.previews.getById(previewId);
    // Stopped meanwhile: what failed was the stop's doing, not a fault.
    if (!current || isTerminal(current.status) || current.status === 'stopping') return;
    const failure = this.deps.runner.isRuntimeLost?.(error) ? runtimeLost : failureFrom(error);
    // The step is where the launch was when it failed: building, launching, running.
    if (failure.reason === 'internal')
      this.deps.onInternalError?.({ previewId, step: current.status, error });
    await this.deps.stateMachine.fail(current, failure);
  }
}

const runtimeLost: PreviewFailure = {
  step: 'launch',
  reason: 'runtime_lost',
  message: 'The container runtime went away while the preview was being started.',
};

/**
 * Statuses in which what the task does changes nothing: ended, being stopped, or being recovered
 * (a recovery in progress owns the preview until its new task is launching).
 */
function taskIgnored(status: PreviewStatus): boolean {
  return isTerminal(status) || status === 'stopping' || status === 'recovering';
}

function failureFrom(error: unknown): PreviewFailure {
  if (error instanceof LaunchFailed) return error.failure;
  if (error instanceof AppError && error.code !== 'internal') {
    return { step: 'launch', reason: error.code, message: error.message };
  }
  return {
    step: 'launch',
    reason: 'internal',
    message: 'The preview could not be launched because of an internal error.',
  };
}

/**
 * Both values once both are settled, so nothing is left running unobserved; the first failure (in
 * argument order) otherwise.
 */
async function allSettledOrThrow<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

/** Runs a step of the runtime's; a task failure it reports is diagnosed on its way to the record. */
async function diagnosed<T>(step: () => Promise<T>, context: () => DiagnosisContext): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const failure = taskFailureOf(error);
    if (!failure) throw error;
    throw new LaunchFailed(diagnoseTaskFailure(failure, context()));
  }
}

/** What the diagnosis of a failed launch needs from the generation and, once built, its task. */
function diagnosisContext(
  generation: Generation | undefined,
  task?: PreviewTaskDefinition,
): DiagnosisContext {
  const databasePort = generation ? databasePorts[generation.dbType] : undefined;
  return {
    port: generation?.port ?? 0,
    ...(generation?.requiresMigrations && generation.migrationCommand
      ? { migrationCommand: generation.migrationCommand }
      : {}),
    ...(generation?.seedDataIncluded && generation.seedCommand
      ? { seedCommand: generation.seedCommand }
      : {}),
    memoryMb: Object.fromEntries((task?.containers ?? []).map((c) => [c.name, c.memoryMb])),
    ignoredPorts: databasePort === undefined ? [] : [databasePort],
    // Every container's secrets: a migration's output may print the database's password.
    secrets: (task?.containers ?? []).flatMap((container) => secretsOf(container.environment)),
  };
}

/** What a launch started, for what follows healthy (the snapshot of its database). */
interface LaunchedTask {
  readonly database?: DatabasePlan;
  /** The task as it would run without a snapshot, with a database password of its own. */
  readonly snapshotTask: PreviewTaskDefinition;
}

type RestoredStep = 'migrations' | 'seed';

/** The steps a database snapshot stands in for: those the generation runs. */
function restoredStepsOf(generation: Generation): RestoredStep[] {
  return [
    ...(generation.requiresMigrations && generation.migrationCommand ? (['migrations'] as const) : []),
    ...(generation.seedDataIncluded && generation.seedCommand ? (['seed'] as const) : []),
  ];
}

/**
 * Launch steps measured from the containers' own start and finish times; the steps a database
 * snapshot stood in for take no time, when the database was ready, marked `restoredFromSnapshot`.
 */
function containerTimeline(
  description: TaskDescription,
  now: string,
  restoredSteps: readonly RestoredStep[] = [],
): TimelineStep[] {
  const byName = new Map(description.containers.map((c) => [c.name, c]));
  const steps: TimelineStep[] = [];
  const firstDependentStart = ['migrate', 'seed', 'app']
    .map((name) => byName.get(name as 'migrate' | 'seed' | 'app')?.startedAt)
    .find((t) => t !== undefined);
  const database = byName.get('database');
  if (database?.startedAt) {
    steps.push({
      step: 'database',
      startedAt: database.startedAt,
      ...(firstDependentStart ? { endedAt: firstDependentStart } : {}),
    });
  }
  for (const [name, step] of [
    ['migrate', 'migrations'],
    ['seed', 'seed'],
  ] as const) {
    const container = byName.get(name);
    if (container?.startedAt) {
      steps.push({
        step,
        startedAt: container.startedAt,
        ...(container.finishedAt ? { endedAt: container.finishedAt } : {}),
      });
    }
  }
  const ready = firstDependentStart ?? database?.startedAt;
  if (ready) {
    for (const step of restoredSteps) {
      steps.push({ step, startedAt: ready, endedAt: ready, restoredFromSnapshot: true });
    }
  }
  const app = byName.get('app');
  if (app?.startedAt) steps.push({ step: 'start', startedAt: app.startedAt, endedAt: app.startedAt });
  return steps.map((s) => (s.endedAt && s.endedAt < s.startedAt ? { ...s, endedAt: now } : s));
}

/** Later measurements of a step replace earlier ones; the order of first appearance is kept. */
function mergeTimeline(current: readonly TimelineStep[], updates: readonly TimelineStep[]): TimelineStep[] {
  const merged = [...current];
  for (const update of updates) {
    const index = merged.findIndex((s) => s.step === update.step);
    if (index === -1) merged.push(update);
    else if (update.step !== 'start') merged[index] = update;
    else
      merged[index] = { ...merged[index], endedAt: update.endedAt ?? merged[index]?.endedAt } as TimelineStep;
  }
  return merged;
}
