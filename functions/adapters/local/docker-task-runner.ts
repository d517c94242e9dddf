import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import pLimit from 'p-limit';
import { parsePostgresCount, postgresCount, type DatabaseTally } from '#core/database-count.js';
import { AppError } from '#core/errors.js';
import { untraced, type TraceRecorder } from '#core/launch-trace.js';
import { parseSocketTable } from '#core/launch-diagnosis.js';
import { BridgePool, type BridgeClaim, type BridgeEngine } from './bridge-pool.js';
import { defaultDockerSocket, dockerEngineAnswers } from './docker-available.js';
import type { AppAddress } from './docker-app-address.js';
import { isEngineUnreachable } from './docker-engine-errors.js';
import type {
  ContainerDefinition,
  ContainerDependency,
  ContainerName,
  HealthCheck,
  PreviewTaskDefinition,
} from '#core/task-definition.js';
import {
  taskFailed,
  type ContainerDescription,
  type ContainerState,
  type ContainerStats,
  type DescribeOptions,
  type Endpoint,
  type FailureReason,
  type Listener,
  type PendingAppImage,
  type RunningTask,
  type RuntimeCapacity,
  type TaskDescription,
  type TaskRunner,
} from '#core/task-runner.js';

export interface DockerTaskRunnerOptions {
  /** The longest wait for one dependency (a healthy database, a finished migration, …). */
  readonly stepTimeoutMs?: number;
  /** How often a starting container's HTTP health check is asked. */
  readonly pollMs?: number;
  /** How often, at most, a health check command runs in a starting container (it costs a process). */
  readonly execPollMs?: number;
  /** How often, at most, the engine is asked about a container whose HTTP health check is probed. */
  readonly inspectPollMs?: number;
  /**
   * Which service instance owns the previews this runner starts. Several instances can share an
   * engine (a developer's service and a test run); `list` sees only its own instance's resources.
   */
  readonly owner?: string;
  /** How the service reaches the app (default `published`, which every engine allows). */
  readonly appAddress?: AppAddress;
}

const label = {
  previewId: 'preview.id',
  taskId: 'preview.task',
  container: 'preview.container',
  managed: 'preview.managed',
  owner: 'preview.owner',
  /** On a bridge of the runner's pool (see BridgePool): it carries no preview's id. */
  pool: 'preview.pool',
  /** A container's `layerDataPath`: data in its own layer, measured with the volumes. */
  layerDataPath: 'preview.layer-data-path',
  /** The path of a check asked over HTTP instead of by the engine (see askedOverHttp). */
  healthPath: 'preview.health-path',
  /** On the namespace owner: the port the app answers on, where it is reached at its address. */
  appPort: 'preview.app-port',
} as const;
const containerOrder: readonly ContainerName[] = ['database', 'migrate', 'seed', 'app', 'bridge'];
const mib = 1024 * 1024;
const lastLineCount = 20;
const neverStarted = '0001-01-01T00:00:00Z';
/** One ask of a starting app: a connection the engine's proxy accepts may never be answered. */
const httpProbeTimeoutMs = 1_000;
/**
 * Running containers the engine is asked to remove at once. Their network teardown is serialized
 * in the kernel anyway, and more at once only contend: 100 on a 2-core machine took 7.0-7.5 s all
 * at once, 5.1-5.6 s ten to twenty-four at a time (the engine's own spread reaches 7.4 s), 5.8-7.3 s
 * four to eight at a time.
 */
const removalsAtOnce = 16;

type Inspection = Docker.ContainerInspectInfo;

/**
 * Runs a preview task on the local Docker engine the way ECS runs it in awsvpc mode: the first
 * essential container owns the network namespace, the containers after it join it, so they all
 * share localhost; `dependsOn` is honoured by starting each container only once its
 * dependencies reached their condition.
 */
export class DockerTaskRunner implements TaskRunner {
  readonly kind = 'docker';
  readonly runWaitsForTask = true;
  private readonly stepTimeoutMs: number;
  private readonly pollMs: number;
  private readonly execPollMs: number;
  private readonly inspectPollMs: number;
  private readonly owner: string | undefined;
  private readonly appAddress: AppAddress;
  private engineCapacity: Promise<RuntimeCapacity> | undefined;
  private readonly bridges: BridgePool;
  private readonly removals = pLimit(removalsAtOnce);

  constructor(
    private readonly docker: Docker,
    options: DockerTaskRunnerOptions = {},
  ) {
    this.stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
    this.pollMs = options.pollMs ?? 25;
    this.execPollMs = Math.max(this.pollMs, options.execPollMs ?? 100);
    this.inspectPollMs = Math.max(this.pollMs, options.inspectPollMs ?? 250);
    this.owner = options.owner;
    this.appAddress = options.appAddress ?? 'published';
    this.bridges = new BridgePool(dockerBridges(docker, this.owner), {
      // Without an owner, other runners on the engine could hold the same bridges.
      adopt: this.owner !== undefined,
    });
  }

  readonly startsBeforeAppImage = true;

  async run(
    task: PreviewTaskDefinition,
    trace: TraceRecorder = untraced,
    pendingImage?: PendingAppImage,
  ): Promise<RunningTask> {
    const taskId = randomUUID();
    const labels = {
      [label.previewId]: task.previewId,
      [label.taskId]: taskId,
      [label.managed]: 'true',
      ...(this.owner ? { [label.owner]: this.owner } : {}),
    };
    const bridge = await trace.span('task.network', () => this.bridges.claim(task.previewId, taskId));
    try {
      await trace.span('task.volumes', () =>
        Promise.all(
          task.volumes.map((volume) =>
            this.docker.createVolume({ Name: volumeName(task.previewId, volume.name), Labels: labels }),
          ),
        ),
      );
      const owner = ownerOf(task);
      const containers: Partial<Record<ContainerName, Docker.Container>> = {};
      const started: TaskStart = { containers, endpoint: undefined, reached: new Set() };
      const startContainer = async (definition: ContainerDefinition) => {
        await trace.span(`task.start.${definition.name}`, () => containers[definition.name]!.start());
        if (definition === owner) {
          const inspection = await trace.span('task.inspect', () => containers[owner.name]!.inspect());
          started.endpoint = endpointOf([inspection]);
        }
      };
      // While the app image builds, the leading containers of other images that wait for nothing
      // (the database) start already; everything else waits for the image.
      const early = pendingImage ? leadingIndependent(task, pendingImage.imageRef) : [];
      if (early.length > 0) {
        await trace.span('task.create', () =>
          this.createContainers(task, early, labels, containers, bridge.name),
        );
        for (const definition of early) await startContainer(definition);
      }
      if (pendingImage) await trace.span('task.wait.image', () => pendingImage.ready);
      const rest = task.containers.filter((c) => !early.includes(c));
      await trace.span('task.create', () =>
        this.createContainers(task, rest, labels, containers, bridge.name),
      );
      // Starts nothing waits for (the bridge) run beside the waits that follow them.
      const sideStarts: Promise<unknown>[] = [];
      try {
        for (const definition of rest) {
          for (const dependency of definition.dependsOn) {
            // Every container is started before anything that depends on it: nothing to wait for.
            if (dependency.condition === 'START') continue;
            await trace.span(`task.wait.${dependency.containerName}`, () =>
              this.reach(task, started, dependency),
            );
          }
          if (nothingWaitsFor(task, definition)) {
            const start = trace.span(`task.start.${definition.name}`, () =>
              containers[definition.name]!.start(),
            );
            sideStarts.push(start);
            // Handled here; awaited below, after the waits.
            start.catch(() => undefined);
            continue;
          }
          await startContainer(definition);
        }
        for (const definition of task.containers) {
          if (definition.essential && definition.healthCheck) {
            await trace.span(`task.wait.${definition.name}`, () =>
              this.reach(task, started, { containerName: definition.name, condition: 'HEALTHY' }),
            );
          }
        }
      } finally {
        await Promise.allSettled(sideStarts);
      }
      await Promise.all(sideStarts);
      bridge.starting = false;
      return { taskId, ...(started.endpoint ? { endpoint: started.endpoint } : {}), appHealthy: true };
    } catch (error) {
      // The failure is the news; should the clean-up fail too, the sweeper removes what is left.
      // Only what this run made: another task of the preview (a conflict) stays as it is.
      await this.remove(`${label.taskId}=${taskId}`, [bridge]).catch(() => undefined);
      throw error;
    }
  }

  async stop(previewId: string): Promise<void> {
    await this.remove(`${label.previewId}=${previewId}`, await this.bridges.claimsOf(previewId));
  }

  /** Removes the containers and volumes labelled `selector`, then frees their bridges. */
  private async remove(selector: string, bridges: readonly BridgeClaim[]): Promise<void> {
    const filters = { label: [selector] };
    const containers = await this.docker.listContainers({ all: true, filters });
    await Promise.all(
      containers.map((c) =>
        this.removals(() => ignoreGone(this.docker.getContainer(c.Id).remove({ force: true, v: true }))),
      ),
    );
    this.bridges.release(bridges);
    const { Volumes: volumes } = await this.docker.listVolumes({ filters });
    await Promise.all((volumes ?? []).map((v) => ignoreGone(this.docker.getVolume(v.Name).remove())));
  }

  /** Removes the bridges kept for the next previews; those of running previews stay. */
  close(): Promise<void> {
    return this.bridges.close();
  }

  /** The bridges kept for the next previews. */
  freeBridgeCount(): number {
    return this.bridges.freeCount();
  }

  async list(): Promise<string[]> {
    const filters = { label: [label.previewId, ...(this.owner ? [`${label.owner}=${this.owner}`] : [])] };
    const [containers, volumes] = await Promise.all([
      this.docker.listContainers({ all: true, filters }),
      this.docker.listVolumes({ filters }),
    ]);
    const labelled = [...containers, ...(volumes.Volumes ?? [])].map((r) => r.Labels?.[label.previewId]);
    return [...new Set(labelled.filter((id): id is string => id !== undefined))];
  }

  async describe(previewId: string, options: DescribeOptions = {}): Promise<TaskDescription | undefined> {
    const listed = await this.docker.listContainers({
      all: true,
      filters: { label: [`${label.previewId}=${previewId}`] },
    });
    // A container listed a moment ago may be removed before it is inspected (a stop in progress).
    const inspected = await Promise.all(
      listed.map((c) => this.docker.getContainer(c.Id).inspect().catch(ifGone(undefined))),
    );
    const inspections = inspected.filter((i): i is Inspection => i !== undefined);
    if (inspections.length === 0) return undefined;
    const endpoint = endpointOf(inspections);
    const containers = await Promise.all(
      inspections.map(async (inspection) => {
        const description = describeContainer(inspection);
        // The engine does not run the app's HTTP check: asked here, on request, as its verdict would be read.
        const healthPath = inspection.Config.Labels[label.healthPath];
        if (!options.checkApp || description.state !== 'running' || !healthPath || !endpoint) {
          return description;
        }
        return (await answersHttp(endpoint, healthPath))
          ? { ...description, state: 'healthy' as const }
          : description;
      }),
    );
    containers.sort((a, b) => containerOrder.indexOf(a.name) - containerOrder.indexOf(b.name));
    return {
      previewId,
      taskId: inspections[0]!.Config.Labels[label.taskId] ?? '',
      containers,
      endpoint,
    };
  }

  async stats(previewId: string): Promise<ContainerStats | undefined> {
    const running = await this.docker.listContainers({
      filters: { label: [`${label.previewId}=${previewId}`] },
    });
    const app = running.find((c) => c.Labels[label.container] === 'app');
    if (!app) return undefined;
    // The network belongs to the namespace owner; the app may only have joined it.
    const networkMode = app.HostConfig.NetworkMode;
    const ownerId = networkMode.startsWith('container:') ? networkMode.slice('container:'.length) : app.Id;
    const [usage, network, storageUsedBytes] = await Promise.all([
      this.docker.getContainer(app.Id).stats({ stream: false }),
      ownerId === app.Id ? undefined : this.docker.getContainer(ownerId).stats({ stream: false }),
      this.storageUsedBytes(running),
    ]);
    const interfaces = Object.values((network ?? usage).networks ?? {});
    const memory = usage.memory_stats;
    const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
    return {
      ...(storageUsedBytes === undefined ? {} : { storageUsedBytes }),
      memoryUsedBytes: Math.max(0, (memory.usage ?? 0) - inactive),
      memoryLimitBytes: memory.limit ?? 0,
      cpuCores: cpuCores(usage),
      networkRxBytes: interfaces.reduce((total, i) => total + i.rx_bytes, 0),
      networkTxBytes: interfaces.reduce((total, i) => total + i.tx_bytes, 0),
    };
  }

  /**
   * Counts the PostgreSQL database's tables and rows with the core's read-only query, run by psql
   * inside the running database container. Undefined when there is none or the count fails.
   */
  async countDatabase(previewId: string): Promise<DatabaseTally | undefined> {
    const [database] = await this.docker.listContainers({
      filters: { label: [`${label.previewId}=${previewId}`, `${label.container}=database`] },
    });
    if (!database) return undefined;
    const result = await execute(this.docker.getContainer(database.Id), postgresCount.command, {
      stderr: false,
      environment: postgresCount.environment,
    });
    return result?.exitCode === 0 ? parsePostgresCount(result.output) : undefined;
  }

  /** The task's listening sockets, read inside its network namespace (from the app container). */
  async listeners(previewId: string): Promise<readonly Listener[] | undefined> {
    const app = await this.containerOf(previewId, 'app');
    return app && socketsOf(app);
  }

  async lastLines(previewId: string, container: ContainerName): Promise<readonly string[]> {
    const found = await this.containerOf(previewId, container);
    return found ? lastLines(found) : [];
  }

  /** The engine's CPUs and memory, read once: an engine does not change under a running service. */
  capacity(): Promise<RuntimeCapacity> {
    this.engineCapacity ??= this.docker.info().then((info: { NCPU: number; MemTotal: number }) => ({
      cpus: info.NCPU,
      memoryMb: Math.floor(info.MemTotal / mib),
    }));
    return this.engineCapacity;
  }

  private async containerOf(previewId: string, name: ContainerName): Promise<Docker.Container | undefined> {
    const [found] = await this.docker.listContainers({
      all: true,
      filters: { label: [`${label.previewId}=${previewId}`, `${label.container}=${name}`] },
    });
    return found && this.docker.getContainer(found.Id);
  }

  /**
   * Bytes on the preview's volumes (the scratch `/tmp`, the database's data) and of the data a
   * container keeps in its own layer (a restored database): the engine cannot size a local volume,
   * so a short `du` runs in a running container that mounts each or holds it, as that container's
   * own user. Undefined when no running container has any.
   */
  private async storageUsedBytes(running: readonly Docker.ContainerInfo[]): Promise<number | undefined> {
    const measured = new Set<string>();
    let total: number | undefined;
    for (const container of running) {
      const layerDataPath = container.Labels[label.layerDataPath];
      const paths: string[] = layerDataPath ? [layerDataPath] : [];
      for (const mount of container.Mounts) {
        if (mount.Type !== 'volume' || !mount.Name || measured.has(mount.Name)) continue;
        measured.add(mount.Name);
        paths.push(mount.Destination);
      }
      if (paths.length === 0) continue;
      const du = await execute(this.docker.getContainer(container.Id), ['du', '-sk', ...paths], {
        stderr: false,
      });
      for (const line of (du?.output ?? '').split('\n')) {
        const kib = /^(\d+)\s/.exec(line)?.[1];
        if (kib !== undefined) total = (total ?? 0) + Number(kib) * 1024;
      }
    }
    return total;
  }

  async available(): Promise<boolean> {
    return dockerEngineAnswers(dockerSocketOf(this.docker));
  }

  isRuntimeLost(error: unknown): boolean {
    return isEngineUnreachable(error);
  }

  /**
   * Creates `definitions` (in task order, after the containers already in `containers`) before any
   * of them starts, so each start waits only for its dependencies.
   */
  private async createContainers(
    task: PreviewTaskDefinition,
    definitions: readonly ContainerDefinition[],
    labels: Record<string, string>,
    containers: Partial<Record<ContainerName, Docker.Container>>,
    bridge: string,
  ): Promise<void> {
    const owner = ownerOf(task);
    const ownerIndex = task.containers.indexOf(owner);
    // Only the owner can publish ports, on behalf of every container in its namespace.
    const mappings = task.containers.slice(ownerIndex).flatMap((c) => c.portMappings);
    const ports = mappings.map((p) => `${p.containerPort}/tcp`);
    // Its image may expose others (a database's): the label names the app's.
    const ownerLabels: Record<string, string> = mappings[0]
      ? { [label.appPort]: String(mappings[0].containerPort) }
      : {};
    for (const definition of definitions) {
      // Helpers that run before the owner exists (migrations of a database-less app) get the
      // task's bridge to themselves.
      const network =
        task.containers.indexOf(definition) <= ownerIndex
          ? bridge
          : `container:${containers[owner.name]!.id}`;
      containers[definition.name] = await createContainer(this.docker, task.previewId, {
        ...containerSpec(
          task.previewId,
          definition,
          definition === owner ? { ...labels, ...ownerLabels } : labels,
        ),
        ...(definition === owner ? { ExposedPorts: Object.fromEntries(ports.map((p) => [p, {}])) } : {}),
        HostConfig: {
          ...hostConfig(task.previewId, definition),
          NetworkMode: network,
          ...(definition === owner && this.appAddress === 'published'
            ? {
                PortBindings: Object.fromEntries(
                  ports.map((p) => [p, [{ HostIp: '127.0.0.1', HostPort: '' }]]),
                ),
              }
            : {}),
        },
      });
    }
  }

  /**
   * Waits until a container reaches a dependency condition, or fails with the container's story.
   * An exit is awaited from the engine (no polling); a health check with an HTTP form is asked
   * at the task's endpoint every `pollMs`, the command form (run inside the container,
   * far costlier) at most every `execPollMs`.
   */
  private async reach(
    task: PreviewTaskDefinition,
    started: TaskStart,
    { containerName, condition }: ContainerDependency,
  ): Promise<void> {
    if (condition === 'START' || started.reached.has(containerName)) return;
    const container = started.containers[containerName]!;
    const definition = task.containers.find((c) => c.name === containerName);
    const healthCheck = definition?.healthCheck;
    const probe =
      healthCheck?.httpPath !== undefined && definition && askedOverHttp(definition) && started.endpoint
        ? { endpoint: started.endpoint, path: healthCheck.httpPath }
        : undefined;
    const deadline = Date.now() + this.stepTimeoutMs;
    const fail = async (reason: FailureReason, exitCode?: number) => {
      // An app that never answered inside its task: what it listens on says why (port, address).
      const listeners = reason === 'health_check' ? await socketsOf(container) : undefined;
      return taskFailed({
        step: containerName,
        reason,
        exitCode,
        lastLines: await lastLines(container),
        ...(listeners ? { listeners } : {}),
      });
    };
    const exited = (state: Inspection['State']) => !state.Running && state.StartedAt !== neverStarted;
    const checkExit = async (state: Inspection['State']) => {
      if (condition === 'COMPLETE') return;
      if (condition === 'SUCCESS' && state.ExitCode === 0) return;
      throw await fail(outOfMemory(state) ? 'out_of_memory' : 'exit_nonzero', state.ExitCode);
    };

    if (condition !== 'HEALTHY') {
      // The engine answers when the container stops: no polling.
      const stopped = await untilStopped(container, deadline);
      const { State: state } = await container.inspect();
      if (!stopped || !exited(state)) throw await fail('timeout');
      await checkExit(state);
      started.reached.add(containerName);
      return;
    }

    // An app asked over HTTP has no engine check (see askedOverHttp): its command form still runs
    // here once an interval, as the engine would, since only inside its task does an app that
    // listens on loopback answer (the launch diagnoses that from outside, at once).
    const execEveryMs = probe && healthCheck ? healthCheck.intervalSeconds * 1000 : this.execPollMs;
    let lastExec = probe ? Date.now() : 0;
    let lastInspect = 0;
    for (;;) {
      // The engine's view (an exit, its own check's verdict) changes rarely: asking it on every
      // poll costs the engine more than the probe, times each task starting at once.
      if (!probe || Date.now() - lastInspect >= this.inspectPollMs) {
        lastInspect = Date.now();
        const { State: state } = await container.inspect();
        if (exited(state)) return checkExit(state);
        if (state.Health?.Status === 'healthy') break;
        if (state.Health?.Status === 'unhealthy') throw await fail('health_check');
      }
      // Docker runs its first check only one interval after the start: run the same check now,
      // so a task becomes ready as soon as it is.
      if (probe && (await answersHttp(probe.endpoint, probe.path))) break;
      if (healthCheck && Date.now() - lastExec >= execEveryMs) {
        lastExec = Date.now();
        if (await passes(container, healthCheck)) break;
      }
      if (Date.now() > deadline) throw await fail('health_check');
      await sleep(this.pollMs);
    }
    started.reached.add(containerName);
  }
}

/** A task being started: its containers, where its app answers, the conditions already met. */
interface TaskStart {
  readonly containers: Partial<Record<ContainerName, Docker.Container>>;
  endpoint: Endpoint | undefined;
  readonly reached: Set<ContainerName>;
}

/** The task's first containers that neither run `appImage` nor wait for anything (the database). */
function leadingIndependent(task: PreviewTaskDefinition, appImage: string): ContainerDefinition[] {
  const leading: ContainerDefinition[] = [];
  for (const definition of task.containers) {
    if (definition.image === appImage || definition.dependsOn.length > 0) break;
    leading.push(definition);
  }
  return leading;
}

/** A container no other container waits for, with nothing to wait for itself (the bridge). */
function nothingWaitsFor(task: PreviewTaskDefinition, definition: ContainerDefinition): boolean {
  return (
    !definition.essential &&
    definition.dependsOn.every((d) => d.condition === 'START') &&
    !task.containers.some((c) => c.dependsOn.some((d) => d.containerName === definition.name))
  );
}

/** True once the container stopped (the engine's `wait`), false when `deadline` came first. */
async function untilStopped(container: Docker.Container, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  // A container removed meanwhile (the task is being stopped) has stopped too.
  const stopped = container.wait().then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([stopped, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when something answers HTTP at `path` on `endpoint`, whatever the status. */
function answersHttp(endpoint: Endpoint, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpGet(
      { host: endpoint.host, port: endpoint.port, path, timeout: httpProbeTimeoutMs, agent: false },
      (response) => {
        response.resume();
        resolve(true);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** The Unix socket a dockerode client talks to (DOCKER_HOST, or Docker's default). */
export function dockerSocketOf(docker: Docker): string {
  // Without DOCKER_HOST, dockerode holds a function that finds the default socket.
  const socketPath = (docker.modem as { socketPath?: unknown }).socketPath;
  return typeof socketPath === 'string' ? socketPath : defaultDockerSocket;
}

/**
 * The runner's bridges on the engine: labelled for the pool and the owner, named for the host
 * firewall. Published ports need a non-internal bridge; without masquerading it has no way out, and
 * the engine bootstrap's firewall refuses new connections from `pv-` bridges to the host.
 */
function dockerBridges(docker: Docker, owner: string | undefined): BridgeEngine {
  const ownerLabels: Record<string, string> = owner ? { [label.owner]: owner } : {};
  const owned = owner ? [`${label.owner}=${owner}`] : [];
  return {
    create: async (name) => {
      await docker.createNetwork({
        Name: name,
        CheckDuplicate: true,
        Labels: { [label.managed]: 'true', [label.pool]: 'true', ...ownerLabels },
        Options: {
          'com.docker.network.bridge.enable_ip_masquerade': 'false',
          'com.docker.network.bridge.name': name,
        },
      });
    },
    remove: (name) => ignoreGone(docker.getNetwork(name).remove()),
    list: async () => {
      const [networks, containers] = await Promise.all([
        docker.listNetworks({ filters: { label: [`${label.pool}=true`, ...owned] } }),
        docker.listContainers({ all: true, filters: { label: [label.previewId, ...owned] } }),
      ]);
      return networks.map((network) => ({
        name: network.Name,
        users: containers
          .filter((c) => c.HostConfig.NetworkMode === network.Name)
          .map((c) => ({ previewId: c.Labels[label.previewId]!, taskId: c.Labels[label.taskId] ?? '' })),
      }));
    },
  };
}

/**
 * Creates a container of `previewId`'s task. Its name is the preview's and the container's: one of
 * the same name is another task of the preview, refused, so a preview runs one task at a time.
 */
function createContainer(
  docker: Docker,
  previewId: string,
  options: Docker.ContainerCreateOptions,
): Promise<Docker.Container> {
  return docker.createContainer(options).catch((error: { statusCode?: number }) => {
    if (error.statusCode !== 409) throw error;
    throw new AppError('conflict', `Preview ${previewId} has a task already; stop it first.`);
  });
}

/** The container whose network namespace the task shares: its first essential one. */
function ownerOf(task: PreviewTaskDefinition): ContainerDefinition {
  const owner = task.containers.find((c) => c.essential);
  if (!owner) throw new AppError('internal', `Task ${task.family} has no essential container.`);
  return owner;
}

function volumeName(previewId: string, volume: string): string {
  return `${previewId}-${volume}`;
}

function containerSpec(
  previewId: string,
  definition: ContainerDefinition,
  labels: Record<string, string>,
): Docker.ContainerCreateOptions {
  return {
    name: `${previewId}-${definition.name}`,
    Image: definition.image,
    Cmd: definition.command ? [...definition.command] : undefined,
    Env: Object.entries(definition.environment).map(([name, value]) => `${name}=${value}`),
    User: definition.user,
    Labels: {
      ...labels,
      [label.container]: definition.name,
      ...(definition.layerDataPath ? { [label.layerDataPath]: definition.layerDataPath } : {}),
      ...(askedOverHttp(definition) && definition.healthCheck?.httpPath
        ? { [label.healthPath]: definition.healthCheck.httpPath }
        : {}),
    },
    // As in ECS, only the task definition's check counts, not a HEALTHCHECK in the image.
    Healthcheck:
      definition.healthCheck && !askedOverHttp(definition)
        ? dockerHealthCheck(definition.healthCheck)
        : { Test: ['NONE'] },
  };
}

/**
 * A check with an HTTP form on a port the task maps (the app's) is asked over HTTP: by the runner
 * while the task starts, then by the health monitor every interval. The engine would run its
 * command form too, a process in the container each interval: a core's worth for 100 previews.
 */
function askedOverHttp(definition: ContainerDefinition): boolean {
  return definition.healthCheck?.httpPath !== undefined && definition.portMappings.length > 0;
}

/** A container's hard limits and confinement, the same for every container the service runs. */
export function containerLimits(definition: ContainerDefinition): Docker.HostConfig {
  const memory = definition.memoryMb * mib;
  return {
    Memory: memory,
    MemorySwap: memory,
    // No units of its own (the bridge): a share of the engine, as a container without `cpu` in ECS.
    ...(definition.cpuUnits > 0 ? { NanoCpus: Math.round((definition.cpuUnits / 1024) * 1e9) } : {}),
    PidsLimit: definition.pidsLimit,
    Init: true,
    SecurityOpt: ['no-new-privileges:true'],
    CapDrop: ['ALL'],
  };
}

function hostConfig(previewId: string, definition: ContainerDefinition): Docker.HostConfig {
  return {
    ...containerLimits(definition),
    ReadonlyRootfs: definition.readonlyRootFilesystem,
    Mounts: definition.mountPoints.map((m) => ({
      Type: 'volume' as const,
      Source: volumeName(previewId, m.sourceVolume),
      Target: m.containerPath,
      ReadOnly: m.readOnly,
    })),
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
  };
}

function dockerHealthCheck(check: HealthCheck): Docker.HealthConfig {
  const nanoseconds = (seconds: number) => seconds * 1e9;
  return {
    Test: [...check.command],
    Interval: nanoseconds(check.intervalSeconds),
    Timeout: nanoseconds(check.timeoutSeconds),
    Retries: check.retries,
    StartPeriod: nanoseconds(check.startPeriodSeconds),
  };
}

/** Runs a health check command in the container, as Docker would. */
async function passes(container: Docker.Container, check: HealthCheck): Promise<boolean> {
  const [form, ...args] = check.command;
  const command = form === 'CMD-SHELL' ? ['/bin/sh', '-c', ...args] : args;
  return (await execute(container, command))?.exitCode === 0;
}

/** The listening sockets of the container's network namespace; undefined when it cannot be asked. */
async function socketsOf(container: Docker.Container): Promise<Listener[] | undefined> {
  const result = await execute(container, ['cat', '/proc/net/tcp', '/proc/net/tcp6']);
  return result && parseSocketTable(result.output);
}

/**
 * Runs a command in a running container, with the container's environment plus `environment`: its
 * exit code and output (standard error too, unless told otherwise), or undefined if it could not run.
 */
async function execute(
  container: Docker.Container,
  command: readonly string[],
  options: { readonly stderr?: boolean; readonly environment?: Readonly<Record<string, string>> } = {},
): Promise<{ exitCode: number | null; output: string } | undefined> {
  try {
    const exec = await container.exec({
      Cmd: [...command],
      ...(options.environment
        ? { Env: Object.entries(options.environment).map(([name, value]) => `${name}=${value}`) }
        : {}),
      AttachStdout: true,
      AttachStderr: options.stderr ?? true,
    });
    const output = await demultiplexed(container, await exec.start({}));
    return { exitCode: (await exec.inspect()).ExitCode, output };
  } catch {
    // Not running (any more): the state check says why.
    return undefined;
  }
}

/**
 * The kernel's OOM killer, as Docker saw it. Exit 137 (SIGKILL) counts too: during a run nobody
 * else kills the container, and some engines miss the OOM event.
 */
function outOfMemory(state: Inspection['State']): boolean {
  return state.OOMKilled || state.ExitCode === 137;
}

async function lastLines(container: Docker.Container): Promise<string[]> {
  try {
    const output = await container.logs({ stdout: true, stderr: true, tail: lastLineCount, follow: false });
    return (await demultiplexed(container, Readable.from([output])))
      .split('\n')
      .filter((line) => line.trim() !== '');
  } catch {
    return [];
  }
}

/** What a container's output stream without a TTY carried, standard output and error in their order. */
async function demultiplexed(container: Docker.Container, stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  const collected = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      chunks.push(chunk);
      done();
    },
  });
  const modem: Docker['modem'] = container.modem;
  modem.demuxStream(stream, collected, collected);
  await finished(stream);
  return Buffer.concat(chunks).toString('utf8');
}

function describeContainer(inspection: Inspection): ContainerDescription {
  const { State: state } = inspection;
  const exited = state.Status === 'exited' || state.Status === 'dead';
  return {
    name: inspection.Config.Labels[label.container] as ContainerName,
    state: containerState(state),
    ...(exited ? { exitCode: state.ExitCode } : {}),
    oomKilled: state.OOMKilled,
    ...(state.StartedAt !== neverStarted ? { startedAt: state.StartedAt } : {}),
    ...(exited && state.FinishedAt !== neverStarted ? { finishedAt: state.FinishedAt } : {}),
  };
}

function containerState(state: Inspection['State']): ContainerState {
  if (state.Status === 'created') return 'pending';
  if (state.Status === 'exited' || state.Status === 'dead' || state.Status === 'removing') return 'exited';
  if (state.Health?.Status === 'healthy') return 'healthy';
  if (state.Health?.Status === 'unhealthy') return 'unhealthy';
  return 'running';
}

/**
 * Where the app answers: the port the namespace owner publishes on the host, or else (nothing
 * published: see `AppAddress`) the owner's address on the preview's bridge at the app's port.
 * Read from the containers, so a runner reads any task right, whichever way it was started.
 */
function endpointOf(inspections: readonly Inspection[]): Endpoint | undefined {
  for (const inspection of inspections) {
    const ports = inspection.NetworkSettings.Ports ?? {};
    for (const bindings of Object.values(ports)) {
      const binding = bindings?.find((b) => b.HostPort);
      if (binding) return { host: binding.HostIp || '127.0.0.1', port: Number(binding.HostPort) };
    }
    const address = Object.values(inspection.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress);
    const appPort = inspection.Config.Labels[label.appPort];
    if (address && appPort) return { host: address.IPAddress, port: Number(appPort) };
  }
  return undefined;
}

/**
 * CPU cores used between the two samples of a stats reading. A one-shot reading has no previous
 * sample: nothing to measure yet, so zero.
 */
function cpuCores(stats: Docker.ContainerStats): number {
  const cpu = stats.cpu_stats;
  const previous = stats.precpu_stats;
  if (!previous?.system_cpu_usage || !cpu.system_cpu_usage) return 0;
  const used = cpu.cpu_usage.total_usage - previous.cpu_usage.total_usage;
  const elapsed = cpu.system_cpu_usage - previous.system_cpu_usage;
  const cpus = cpu.online_cpus || cpu.cpu_usage.percpu_usage?.length || 1;
  return elapsed > 0 && used > 0 ? (used / elapsed) * cpus : 0;
}

/** A rejection handler that turns "no such object" (404) into `value`. */
function ifGone<T>(value: T): (error: unknown) => T {
  return (error) => {
    if ((error as { statusCode?: number }).statusCode === 404) return value;
    throw error;
  };
}

/** Removal that does not mind the thing being gone, or already going. */
async function ignoreGone(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== 404 && status !== 409) throw error;
  }
}
