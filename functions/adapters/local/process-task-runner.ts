import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenEnvironment } from '#core/app-binding.js';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '#core/errors.js';
import type {
  ContainerDefinition,
  ContainerName,
  HealthCheck,
  PreviewTaskDefinition,
} from '#core/task-definition.js';
import {
  taskFailed,
  type ContainerDescription,
  type ContainerStats,
  type Endpoint,
  type FailureReason,
  type RunningTask,
  type TaskDescription,
  type TaskRunner,
} from '#core/task-runner.js';

export interface ProcessTaskRunnerOptions {
  /**
   * PATH of the children, by default `/usr/bin:/bin`: `uvicorn`, `python3` and `alembic` are then
   * the system's (Debian's python3-fastapi and uvicorn packages), not a pyenv or virtualenv shim
   * that happens to be on the service's own PATH.
   */
  readonly path?: string;
  /** The longest wait for one step: a one-shot to finish, the app to turn healthy. */
  readonly stepTimeoutMs?: number;
  /** How often a starting app's health endpoint is asked. */
  readonly pollMs?: number;
  /** How often memory is checked against the limits (and CPU use sampled). */
  readonly watchMs?: number;
  /** Every output line of every child, stdout and stderr alike (e.g. for the log store). */
  readonly onOutput?: (previewId: string, container: ContainerName, line: string) => void;
  /**
   * The user the children run as (needs a service running as root). Unset: the service's own user,
   * whose files (e.g. `.local/`) the generated code could then read.
   */
  readonly user?: { readonly uid: number; readonly gid: number };
}

const loopback = '127.0.0.1';
const mib = 1024 * 1024;
const lastLineCount = 20;
/** Linux reports CPU time in USER_HZ ticks, 100 a second on every architecture. */
const ticksPerSecond = 100;
/** How long output is still read after a child exits; a process that left its group may hold the pipes. */
const drainMs = 1000;

interface Child {
  readonly definition: ContainerDefinition;
  readonly lastLines: string[];
  process?: ChildProcess;
  /** Settles once the child exited and its output was read. */
  ended?: Promise<void>;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled: boolean;
  healthy: boolean;
  /** The group's CPU time at the last watch, and the rate since the one before. */
  cpuSample?: { ticks: number; at: number };
  cpuCores: number;
}

interface Run {
  readonly previewId: string;
  readonly taskId: string;
  readonly endpoint: Endpoint;
  /** The task's volumes, one folder each. */
  readonly directory: string;
  /** In start order. */
  readonly children: readonly Child[];
  stopping?: Promise<void>;
}

/**
 * Runs a preview task as child processes of this service: the MVP's in-process preview, kept for
 * machines without Docker when asked for (`PREVIEW_RUNNER=process`). In-process by nature: its table
 * of children lives in this process's memory and dies with it. Given a `user`, the children run as
 * that user, so generated code cannot read the service's files.
 *
 * What a process can run: the one-shot `migrate` and `seed` containers, in order, each of which
 * must exit 0, then the `app`, which must answer its health endpoint. A database sidecar needs a
 * container and is refused. Each container runs as its own process group (killed as a whole) in
 * the generation's folder (the image reference of `ProcessImageBuilder`), with only its own
 * environment (the service's, with its secrets, stays out) plus PATH, PORT and HOST; the task's
 * volumes become folders of a temporary directory, and environment values naming a mount path
 * (e.g. `sqlite:////tmp/preview.sqlite3`) are pointed at them, so concurrent previews never share
 * a file.
 *
 * The limits are soft: a watcher sums the resident memory (VmRSS) of each process group once per
 * `watchMs` and kills the group past its container's memory limit, reported as out of memory. An
 * allocation burst between two looks can overshoot, and a process that leaves its group escapes.
 * An address-space cap (`ulimit -v`) would be exact but breaks Python, whose allocators reserve
 * far more than they use; `ulimit -u` counts every process of the user, not the preview's. CPU,
 * process count and network are not limited: Docker gives previews hard limits and isolation.
 */
export class ProcessTaskRunner implements TaskRunner {
  readonly kind = 'process';
  readonly runWaitsForTask = true;
  private readonly path: string;
  private readonly stepTimeoutMs: number;
  private readonly pollMs: number;
  private readonly watchMs: number;
  private readonly onOutput: NonNullable<ProcessTaskRunnerOptions['onOutput']>;
  private readonly user: ProcessTaskRunnerOptions['user'];
  private readonly runs = new Map<string, Run>();
  private watching = false;

  constructor(options: ProcessTaskRunnerOptions = {}) {
    this.path = options.path ?? '/usr/bin:/bin';
    this.stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
    this.pollMs = options.pollMs ?? 100;
    this.watchMs = options.watchMs ?? 1000;
    this.onOutput = options.onOutput ?? (() => {});
    this.user = options.user;
  }

  async run(task: PreviewTaskDefinition): Promise<RunningTask> {
    const database = task.containers.find((c) => c.name === 'database');
    if (database) {
      throw new AppError(
        'unavailable',
        `This preview needs its own database (${database.image}), which cannot run as a local process: ` +
          'a Docker engine is needed for that database. Start Docker (scripts/docker/ensure-docker-engine.sh).',
      );
    }
    const port = await freePort();
    const directory = await mkdtemp(join(tmpdir(), `${task.previewId}-`));
    // Checked only now, with no await until the run is in the table: one task per preview.
    if (this.runs.has(task.previewId)) {
      await rm(directory, { recursive: true, force: true });
      throw new AppError('conflict', `Preview ${task.previewId} has a task already; stop it first.`);
    }
    const run: Run = {
      previewId: task.previewId,
      taskId: randomUUID(),
      endpoint: { host: loopback, port },
      directory,
      // The loopback bridge joins the app's network namespace; processes share the service's own
      // loopback, where the app is reached wherever it listens.
      children: task.containers
        .filter((definition) => definition.name !== 'bridge')
        .map((definition) => ({
          definition,
          lastLines: [],
          oomKilled: false,
          healthy: false,
          cpuCores: 0,
        })),
    };
    this.runs.set(task.previewId, run);
    this.watch();
    try {
      await Promise.all(task.volumes.map((volume) => mkdir(join(directory, volume.name))));
      // The task's folders are the children's to write in, and no one else's.
      const user = this.user;
      if (user) {
        await Promise.all(
          [directory, ...task.volumes.map((volume) => join(directory, volume.name))].map((folder) =>
            chown(folder, user.uid, user.gid),
          ),
        );
      }
      for (const child of run.children) {
        this.start(run, child);
        await this.reach(run, child);
      }
      return { taskId: run.taskId, endpoint: run.endpoint, appHealthy: true };
    } catch (error) {
      // The failure is the news, not a clean-up that failed after it.
      await this.stop(task.previewId).catch(() => undefined);
      throw error;
    }
  }

  stop(previewId: string): Promise<void> {
    const run = this.runs.get(previewId);
    if (!run) return Promise.resolve();
    run.stopping ??= this.remove(run);
    return run.stopping;
  }

  async list(): Promise<string[]> {
    return [...this.runs.keys()];
  }

  async describe(previewId: string): Promise<TaskDescription | undefined> {
    const run = this.runs.get(previewId);
    if (!run) return undefined;
    return {
      previewId,
      taskId: run.taskId,
      containers: run.children.map(describeChild),
      endpoint: run.endpoint,
    };
  }

  async stats(previewId: string): Promise<ContainerStats | undefined> {
    const app = this.runs.get(previewId)?.children.find((c) => c.definition.name === 'app');
    const pid = app?.process?.pid;
    if (!app || pid === undefined) return undefined;
    const usage = app.exitCode === undefined ? (await groupUsage([pid])).get(pid) : undefined;
    return {
      memoryUsedBytes: usage?.rssBytes ?? 0,
      memoryLimitBytes: app.definition.memoryMb * mib,
      cpuCores: app.cpuCores,
      // Children share the host's network: there is nothing per preview to count.
      networkRxBytes: 0,
      networkTxBytes: 0,
    };
  }

  private start(run: Run, child: Child): void {
    // A stop during the launch ends it: nothing may start after the clean-up began.
    if (run.stopping) {
      throw new AppError('conflict', `Preview ${run.previewId} was stopped during its launch.`);
    }
    const { definition } = child;
    const [file, ...args] = listenOn(definition.command ?? [], run.endpoint.port);
    if (file === undefined) {
      throw new AppError(
        'bad_request',
        `The ${definition.name} container has no command to run as a process.`,
      );
    }
    const spawned = spawn(file, args, {
      cwd: definition.image,
      env: this.environment(run, definition),
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
      // Its own process group: killing the group ends whatever the command started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.process = spawned;
    child.startedAt = new Date().toISOString();
    const output = (line: string) => {
      child.lastLines.push(line);
      if (child.lastLines.length > lastLineCount) child.lastLines.shift();
      this.onOutput(run.previewId, definition.name, line);
    };
    for (const stream of [spawned.stdout, spawned.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', output);
    }
    spawned.on('error', (error) => output(`Could not run ${file}: ${error.message}`));
    spawned.once('exit', (code, signal) => {
      // As when a container ends: nothing it started outlives it.
      killGroup(spawned.pid);
      finish(child, code, signal);
      setTimeout(() => {
        spawned.stdout.destroy();
        spawned.stderr.destroy();
      }, drainMs).unref();
    });
    // Without 'exit' when the spawn itself failed.
    child.ended = new Promise((resolve) =>
      spawned.once('close', (code, signal) => {
        finish(child, code, signal);
        resolve();
      }),
    );
  }

  /** Waits until a one-shot exited 0 or the app answers its health endpoint; else fails the step. */
  private async reach(run: Run, child: Child): Promise<void> {
    const { definition } = child;
    const health = definition.essential ? healthProbe(run.endpoint, definition.healthCheck) : undefined;
    const deadline = Date.now() + this.stepTimeoutMs;
    const fail = (reason: FailureReason, exitCode?: number) =>
      taskFailed({ step: definition.name, reason, exitCode, lastLines: [...child.lastLines] });
    for (;;) {
      if (child.exitCode !== undefined) {
        if (!definition.essential && child.exitCode === 0) return;
        // Its last words come after the exit.
        await child.ended;
        throw fail(child.oomKilled ? 'out_of_memory' : 'exit_nonzero', child.exitCode);
      }
      if (health && (await answers(health))) {
        child.healthy = true;
        return;
      }
      if (Date.now() > deadline) throw fail(health ? 'health_check' : 'timeout');
      await sleep(this.pollMs);
    }
  }

  private async remove(run: Run): Promise<void> {
    for (const child of run.children) {
      if (child.exitCode === undefined) killGroup(child.process?.pid);
    }
    await Promise.all(run.children.map((c) => c.ended));
    try {
      await rm(run.directory, { recursive: true, force: true });
    } finally {
      this.runs.delete(run.previewId);
    }
  }

  /** The container's environment on this host, listening where the runner says. */
  private environment(run: Run, definition: ContainerDefinition): Record<string, string> {
    const mounts = definition.mountPoints.map((m) => ({
      containerPath: m.containerPath,
      folder: join(run.directory, m.sourceVolume),
    }));
    const environment = Object.fromEntries(
      Object.entries(definition.environment).map(([name, value]) => [name, onHost(value, mounts)]),
    );
    return {
      PATH: this.path,
      ...environment,
      // Servers read these when their command line has no --port / --host / --bind.
      ...listenEnvironment(run.endpoint.port, environment, loopback),
    };
  }

  /** One watcher for all runs, while there are any: kills groups past their memory, samples CPU. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    setTimeout(() => {
      void this.checkUsage().finally(() => {
        this.watching = false;
        if (this.runs.size > 0) this.watch();
      });
    }, this.watchMs).unref();
  }

  private async checkUsage(): Promise<void> {
    const live = [...this.runs.values()]
      .flatMap((run) => run.children)
      .flatMap((child) => {
        const pid = child.process?.pid;
        return pid !== undefined && child.exitCode === undefined ? [{ child, pid }] : [];
      });
    const usage = await groupUsage(live.map(({ pid }) => pid));
    const now = Date.now();
    for (const { child, pid } of live) {
      const { rssBytes, cpuTicks } = usage.get(pid) ?? { rssBytes: 0, cpuTicks: 0 };
      const previous = child.cpuSample;
      if (previous && now > previous.at) {
        child.cpuCores = Math.max(
          0,
          (cpuTicks - previous.ticks) / ticksPerSecond / ((now - previous.at) / 1000),
        );
      }
      child.cpuSample = { ticks: cpuTicks, at: now };
      if (rssBytes > child.definition.memoryMb * mib && child.exitCode === undefined) {
        child.oomKilled = true;
        killGroup(pid);
      }
    }
  }
}

/**
 * The command, made to listen on the runner's port on loopback only. In a uvicorn command line
 * (the task model's `sh -c <entry point>` script), `--port N` / `--port=N` and `--host X` /
 * `--host=X` are replaced: flags beat the environment. Every other command learns the port from
 * PORT and HOST (and uvicorn without those flags from UVICORN_PORT / UVICORN_HOST).
 */
export function listenOn(command: readonly string[], port: number): string[] {
  return command.map((part) =>
    /\buvicorn\b/.test(part)
      ? part
          .replace(/--port(=|\s+)\S+/g, (_match, separator: string) => `--port${separator}${port}`)
          .replace(/--host(=|\s+)\S+/g, (_match, separator: string) => `--host${separator}${loopback}`)
      : part,
  );
}

/** A value naming a container mount path (alone or as a path prefix), pointed at the mount's folder. */
function onHost(value: string, mounts: readonly { containerPath: string; folder: string }[]): string {
  return mounts.reduce((result, { containerPath, folder }) => {
    const escaped = containerPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Not inside a longer path: `/var/tmp/x` keeps its `/tmp/`.
    return result.replace(new RegExp(`(?<![\\w.-])${escaped}(?=/|$)`, 'g'), folder);
  }, value);
}

interface HealthProbe {
  readonly url: string;
  /** Without an HTTP check in the task, any answer means the app is up. */
  readonly anyAnswer: boolean;
}

/** The path of the URL in the app's health check command, asked on the runner's port. */
function healthProbe(endpoint: Endpoint, check: HealthCheck | undefined): HealthProbe {
  const found = check?.command.map((part) => /https?:\/\/[^\s'"]+/.exec(part)?.[0]).find(Boolean);
  const url = found === undefined ? undefined : new URL(found);
  const path = url ? url.pathname + url.search : '/';
  return { url: `http://${endpoint.host}:${endpoint.port}${path}`, anyAnswer: url === undefined };
}

async function answers({ url, anyAnswer }: HealthProbe): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return anyAnswer || response.ok;
  } catch {
    return false;
  }
}

function finish(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
  if (child.exitCode !== undefined) return;
  // A shell's convention for a signal: SIGKILL is 137, as Docker reports it.
  child.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  child.finishedAt = new Date().toISOString();
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

/** A port free on loopback now; the app binds it a moment later. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, loopback, resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new AppError('internal', 'No free port found.');
  return address.port;
}

function describeChild(child: Child): ContainerDescription {
  const exited = child.exitCode !== undefined;
  return {
    name: child.definition.name,
    state: !child.process ? 'pending' : exited ? 'exited' : child.healthy ? 'healthy' : 'running',
    ...(exited ? { exitCode: child.exitCode } : {}),
    oomKilled: child.oomKilled,
    ...(child.startedAt ? { startedAt: child.startedAt } : {}),
    ...(child.finishedAt ? { finishedAt: child.finishedAt } : {}),
  };
}

interface Usage {
  rssBytes: number;
  cpuTicks: number;
}

/** Resident memory and CPU time of each process group, summed over its members, from /proc. */
async function groupUsage(leaders: readonly number[]): Promise<Map<number, Usage>> {
  const usage = new Map(leaders.map((pid): [number, Usage] => [pid, { rssBytes: 0, cpuTicks: 0 }]));
  if (leaders.length === 0) return usage;
  // No /proc (macOS): nothing to read, so there the limits are not enforced at all.
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // After the command name (which may hold spaces and parentheses): state, ppid, pgrp, …
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const group = usage.get(Number(fields[2]));
        if (!group) return;
        group.cpuTicks += Number(fields[11]) + Number(fields[12]); // utime, stime
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        group.rssBytes += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
      } catch {
        // The process ended while we looked.
      }
    }),
  );
  return usage;
}
