import { createHash } from 'node:crypto';
import type { DatabaseInspector } from './database-count.js';
import { AppError } from './errors.js';
import type { GenerationSource } from './generation.js';
import type { DatabaseSnapshotStore } from './database-snapshots.js';
import type { TraceRecorder } from './launch-trace.js';
import type { LaunchStarter } from './ports.js';
import type { ContainerName, PreviewTaskDefinition } from './task-definition.js';

/** Ports through which the core builds images and runs preview tasks (Docker locally, ECS in AWS). */

export interface BuiltImage {
  readonly imageRef: string;
  /** True when an image with this content hash existed and nothing was built. */
  readonly cached: boolean;
}

export interface ImageBuilder {
  /** Builds the generation's image unless one tagged with its content hash exists. */
  ensureImage(source: GenerationSource, onBuildLog: (line: string) => void): Promise<BuiltImage>;
  /** The reference `ensureImage` gives the source's image, known before it is built. */
  imageRefOf?(source: GenerationSource): string;
}

/** A task whose app image is still being built when the task starts. */
export interface PendingAppImage {
  /** The image the app, migrate, seed and bridge containers run. */
  readonly imageRef: string;
  /** Settles once the image exists; a rejection (a failed build) ends the run with it. */
  readonly ready: Promise<unknown>;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface RunningTask {
  readonly taskId: string;
  /** Where the app answers, from where the service runs. */
  readonly endpoint?: Endpoint;
  /** True when `run` returned only after the app passed its health check (Docker, processes). */
  readonly appHealthy: boolean;
}

export type ContainerState = 'pending' | 'running' | 'healthy' | 'unhealthy' | 'exited';

export interface ContainerDescription {
  readonly name: ContainerName;
  readonly state: ContainerState;
  readonly exitCode?: number;
  readonly oomKilled: boolean;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

export interface DescribeOptions {
  readonly checkApp?: boolean;
}

export interface TaskDescription {
  readonly previewId: string;
  readonly taskId: string;
  readonly containers: readonly ContainerDescription[];
  readonly endpoint?: Endpoint;
  /**
   * True when the task was stopped on a request from outside the service (an operator's
   * `aws ecs stop-task`), not by the service itself, its app or the runtime.
   */
  readonly stoppedByOperator?: boolean;
}

/** Resource use of the app container; network counts are the task's (its containers share it). */
export interface ContainerStats {
  readonly memoryUsedBytes: number;
  readonly memoryLimitBytes: number;
  readonly cpuCores: number;
  readonly networkRxBytes: number;
  readonly networkTxBytes: number;
  /** Bytes written to the task's volumes (the scratch `/tmp` and the database's data), where measured. */
  readonly storageUsedBytes?: number;
}

export type TaskRunnerKind = 'docker' | 'process' | 'ecs';

/** A listening TCP socket in the task's network namespace (from /proc/net/tcp and tcp6). */
export interface Listener {
  readonly address: string;
  readonly port: number;
}

/** What the engine that runs the tasks has: no container can have more. */
export interface RuntimeCapacity {
  readonly cpus: number;
  readonly memoryMb: number;
}

/** A runtime that can count a preview's database implements `countDatabase` (a `DatabaseInspector`). */
export interface TaskRunner extends Partial<DatabaseInspector> {
  readonly kind: TaskRunnerKind;
  /**
   * True when `run` resolves only once the task is up or has failed (Docker, processes); false
   * when it returns as soon as the task is requested and its progress arrives as events (ECS).
   */
  readonly runWaitsForTask: boolean;
  /**
   * Starts the task's containers in dependency order and resolves once the essential ones are up
   * (healthy, where they have a health check). Rejects with a task failure (see `taskFailure`)
   * after removing everything it started. Its steps (container starts, waits) go to `trace`.
   */
  run(
    task: PreviewTaskDefinition,
    trace?: TraceRecorder,
    pendingImage?: PendingAppImage,
  ): Promise<RunningTask>;
  /**
   * True when `run` takes a `pendingImage`: the containers of other images that wait for nothing
   * (the database) start while the app image is still being built, the others once it exists.
   */
  readonly startsBeforeAppImage?: boolean;
  /** Removes the preview's containers, volumes and networks. Idempotent. */
  stop(previewId: string): Promise<void>;
  /**
   * Reads the preview's task from the runtime. With `checkApp`, a runtime that does not run the
   * app's HTTP check itself (Docker locally) asks it once, so whoever takes over a started task
   * (after a service restart) sees the app healthy once it answers; without, it reads state only.
   */
  describe(previewId: string, options?: DescribeOptions): Promise<TaskDescription | undefined>;
  /** Ids of the previews that have anything in this runtime (tasks, containers, networks, volumes). */
  list(): Promise<string[]>;
  stats(previewId: string): Promise<ContainerStats | undefined>;
  /** The listening sockets of the task's network namespace, where the runtime can read them. */
  listeners?(previewId: string): Promise<readonly Listener[] | undefined>;
  /** The last lines a container printed, where the runtime keeps them at hand. */
  lastLines?(previewId: string, container: ContainerName): Promise<readonly string[]>;
  /** The engine's CPUs and memory, where one engine runs every task (Docker); Fargate sizes tasks itself. */
  capacity?(): Promise<RuntimeCapacity>;
  /**
   * False while the runtime itself cannot be reached (a local Docker engine restarting): new
   * launches are refused with 503 and recoveries wait. Runtimes that cannot go away omit it.
   */
  available?(): Promise<boolean>;
  /** True when `error` says the runtime went away (rather than the task failing on its own). */
  isRuntimeLost?(error: unknown): boolean;
}

export type TaskStep = 'build' | ContainerName;
export type FailureReason = 'build_error' | 'exit_nonzero' | 'out_of_memory' | 'health_check' | 'timeout';

/** Why a build or a task did not come up; the launch flow records it and shows it to the user. */
export type TaskFailure = {
  readonly step: TaskStep;
  readonly reason: FailureReason;
  readonly exitCode?: number;
  readonly lastLines: readonly string[];
  /** The task's listening sockets when the app never answered, where the runtime could read them. */
  readonly listeners?: readonly Listener[];
};

const reasonText: Record<FailureReason, string> = {
  build_error: 'the image build failed',
  exit_nonzero: 'the container exited with an error',
  out_of_memory: 'the container ran out of memory',
  health_check: 'the health check did not pass',
  timeout: 'it did not finish in time',
};

export function taskFailed(failure: TaskFailure): AppError {
  const code = failure.exitCode === undefined ? '' : ` (exit code ${failure.exitCode})`;
  return new AppError(
    'unavailable',
    `The ${failure.step} step failed: ${reasonText[failure.reason]}${code}.`,
    { ...failure },
  );
}

/** The task failure an error carries, if it is one. */
export function taskFailureOf(error: unknown): TaskFailure | undefined {
  if (!(error instanceof AppError) || error.details === undefined) return undefined;
  const details = error.details as Partial<TaskFailure>;
  return details.step !== undefined && details.reason !== undefined ? (details as TaskFailure) : undefined;
}

/** The content hash that tags a generation's image: sorted paths and their contents. */
export function sourceHash(files: ReadonlyMap<string, Buffer>): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) {
    const content = files.get(path) as Buffer;
    // Lengths delimit the entries, so no two different file sets hash alike.
    hash.update(`${Buffer.byteLength(path)}:${path}:${content.length}:`).update(content);
  }
  return hash.digest('hex');
}

/** Where previews run: an image builder and a task runner of the same kind. */
export interface PreviewRuntime {
  readonly imageBuilder: ImageBuilder;
  readonly runner: TaskRunner;
  readonly starter: LaunchStarter;
  /** Where image builds print to (the local log pipeline; CodeBuild logs on its own in AWS). */
  readonly onBuildLog?: (previewId: string, line: string) => void;
  /** Where migrated and seeded databases are kept (local Docker); absent: every launch migrates. */
  readonly databaseSnapshots?: DatabaseSnapshotStore;
}
