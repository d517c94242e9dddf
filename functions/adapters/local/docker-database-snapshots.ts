import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { DatabaseSnapshot, DatabaseSnapshotStore, SnapshotEviction } from '#core/database-snapshots.js';
import type { ContainerDefinition, PreviewTaskDefinition } from '#core/task-definition.js';
import { containerLimits } from './docker-task-runner.js';

const defaultRepository = 'preview-db-snapshot';
const label = {
  snapshot: 'preview.db-snapshot',
  owner: 'preview.owner',
  key: 'preview.db-snapshot.key',
  generation: 'preview.generation',
  dataPath: 'preview.db-snapshot.data-path',
} as const;
/** Outside the image's declared data VOLUME, so the data is part of what `docker commit` keeps. */
const dataPath = '/var/lib/postgresql/snapshot';
const stepTimeoutMs = 120_000;
const readyPollMs = 100;
/** The longest a build may take: its containers are removed then, and any found older are remains. */
const defaultBuildTimeoutMs = 600_000;

/** A build in progress: what it created so far, and how to cut it off. */
interface Build {
  readonly created: Docker.Container[];
  readonly abort: AbortController;
  /** Settles once the build is over and its containers are gone. */
  readonly finished: Promise<void>;
}

/**
 * Database snapshots as Docker images, `preview-db-snapshot:<key>`. A snapshot is made apart from
 * the preview that asked for it: a database container of its own (data in its writable layer),
 * the task's migrate and seed containers in its network namespace, then a clean shutdown
 * (`docker stop` sends the image's SIGINT: a fast shutdown with a checkpoint) and `docker commit`.
 * A restored database runs on the image's data in place: its writes go to its container's own
 * copy-on-write layer, so nothing is copied before it starts.
 *
 * A build's containers are removed when it ends, however it ends: on `close`, after the build
 * timeout, and, for a service killed mid-build, by `removeAbandonedBuilds` (at start and before
 * each build).
 */
export class DockerDatabaseSnapshots implements DatabaseSnapshotStore {
  /** Snapshots are this repository's images: another repository is another store. */
  private readonly repository: string;
  /** The service instance whose builds these are (the runner's owner), when it has a name. */
  private readonly owner: string | undefined;
  private readonly buildTimeoutMs: number;
  private readonly builds = new Set<Build>();
  private closed = false;

  constructor(
    private readonly docker: Docker,
    options: { readonly repository?: string; readonly owner?: string; readonly buildTimeoutMs?: number } = {},
  ) {
    this.repository = options.repository ?? defaultRepository;
    this.owner = options.owner;
    this.buildTimeoutMs = options.buildTimeoutMs ?? defaultBuildTimeoutMs;
  }

  async find(key: string): Promise<DatabaseSnapshot | undefined> {
    try {
      return this.snapshotOf(await this.docker.getImage(this.imageRef(key)).inspect());
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  /** The engine's id of `image`: a tag rebuilt from other content has another. */
  async imageId(image: string): Promise<string> {
    return (await this.docker.getImage(image).inspect()).Id;
  }

  async capture({
    key,
    generationId,
    task,
  }: {
    key: string;
    generationId: string;
    task: PreviewTaskDefinition;
  }): Promise<void> {
    if (this.closed || (await this.find(key))) return;
    const database = task.containers.find((c) => c.name === 'database');
    if (!database) return;
    await this.removeAbandonedBuilds();
    if (this.closed) return;
    const created: Docker.Container[] = [];
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`the snapshot build took longer than ${this.buildTimeoutMs / 1000} s`)),
      this.buildTimeoutMs,
    );
    timer.unref();
    // One removal per container, whoever asks: a second request would fail while the first runs.
    const removals = new Map<string, Promise<unknown>>();
    const removeCreated = () =>
      Promise.allSettled(
        created.map((container) => {
          const removal = removals.get(container.id) ?? container.remove({ force: true, v: true });
          removals.set(container.id, removal);
          return removal;
        }),
      );
    // Cutting a build off removes its containers: whatever step it waits on ends with them.
    abort.signal.addEventListener('abort', () => void removeCreated(), { once: true });
    const run = (async () => {
      try {
        await this.build({ key, generationId, task, database, created, signal: abort.signal });
      } catch (error) {
        // A step that failed because its containers were removed under it failed for that reason.
        throw abort.signal.aborted ? abort.signal.reason : error;
      } finally {
        clearTimeout(timer);
        await removeCreated();
      }
    })();
    const build: Build = { created, abort, finished: run.then(noop, noop) };
    this.builds.add(build);
    try {
      await run;
    } finally {
      this.builds.delete(build);
    }
  }

  /** Cuts off the builds in progress, waits until their containers are gone, and starts no other. */
  async close(): Promise<void> {
    this.closed = true;
    const builds = [...this.builds];
    for (const build of builds) build.abort.abort(new Error('the service is stopping'));
    await Promise.all(builds.map((build) => build.finished));
  }

  /**
   * Removes the containers of builds that cannot be running any more: this instance's that it does
   * not know of (it was killed mid-build) and anyone's older than the build timeout.
   */
  async removeAbandonedBuilds(): Promise<void> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${label.snapshot}=builder`] },
    });
    const ours = new Set([...this.builds].flatMap((build) => build.created.map((c) => c.id)));
    const oldest = (Date.now() - this.buildTimeoutMs) / 1000;
    const abandoned = containers.filter(
      (c) =>
        !ours.has(c.Id) &&
        ((this.owner !== undefined && c.Labels[label.owner] === this.owner) || c.Created < oldest),
    );
    await Promise.allSettled(
      abandoned.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true })),
    );
  }

  private async build({
    key,
    generationId,
    task,
    database,
    created,
    signal,
  }: {
    key: string;
    generationId: string;
    task: PreviewTaskDefinition;
    database: ContainerDefinition;
    created: Docker.Container[];
    signal: AbortSignal;
  }): Promise<void> {
    const oneShots = task.containers.filter((c) => c.name === 'migrate' || c.name === 'seed');
    const prefix = `preview-db-snapshot-${randomUUID().slice(0, 8)}`;
    const labels = { [label.snapshot]: 'builder', ...(this.owner ? { [label.owner]: this.owner } : {}) };
    const create = async (options: Docker.ContainerCreateOptions) => {
      signal.throwIfAborted();
      const container = await this.docker.createContainer(options);
      created.push(container);
      signal.throwIfAborted();
      return container;
    };
    const db = await create({
      name: `${prefix}-database`,
      Image: database.image,
      Cmd: database.command ? [...database.command] : undefined,
      Env: environment({ ...database.environment, PGDATA: `${dataPath}/pgdata` }),
      User: database.user,
      Labels: labels,
      HostConfig: { ...containerLimits(database), NetworkMode: 'none' },
    });
    await db.start();
    await untilReady(db, database);
    for (const definition of oneShots) {
      const container = await create({
        name: `${prefix}-${definition.name}`,
        Image: definition.image,
        Cmd: definition.command ? [...definition.command] : undefined,
        Env: environment(definition.environment),
        User: definition.user,
        Labels: labels,
        HostConfig: {
          ...containerLimits(definition),
          NetworkMode: `container:${db.id}`,
          ReadonlyRootfs: definition.readonlyRootFilesystem,
          Tmpfs: { '/tmp': 'rw,size=64m' },
        },
      });
      await container.start();
      const { StatusCode: exitCode } = (await container.wait()) as { StatusCode: number };
      signal.throwIfAborted();
      if (exitCode !== 0) throw new Error(`${definition.name} exited with code ${exitCode}`);
    }
    // SIGINT, the image's stop signal: a fast shutdown that checkpoints, so the copy is consistent.
    await db.stop({ t: 30 });
    const { State: state } = await db.inspect();
    if (state.ExitCode !== 0) throw new Error(`the database stopped with code ${state.ExitCode}`);
    signal.throwIfAborted();
    // The image's labels go in the body (a container config); the rest is the query.
    await db.commit({
      _query: {
        container: db.id,
        repo: this.repository,
        tag: key,
        changes: [`ENV PGDATA=${dataPath}/pgdata`],
      },
      _body: {
        Labels: {
          [label.snapshot]: 'true',
          [label.key]: key,
          [label.generation]: generationId,
          [label.dataPath]: dataPath,
        },
      },
    });
  }

  async list(generationId?: string): Promise<DatabaseSnapshot[]> {
    const images = await this.docker.listImages({
      filters: {
        reference: [this.repository],
        label: [`${label.snapshot}=true`, ...(generationId ? [`${label.generation}=${generationId}`] : [])],
      },
    });
    return images
      .flatMap((image) => {
        const snapshot = this.fromLabels(image.Labels ?? {}, new Date(image.Created * 1000), image.Size);
        return snapshot ? [snapshot] : [];
      })
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async evict({ maxCount, maxAgeSeconds, now }: SnapshotEviction): Promise<string[]> {
    const newestFirst = await this.list();
    const oldest = now.getTime() - maxAgeSeconds * 1000;
    const evicted = newestFirst.filter(
      (snapshot, index) => index >= maxCount || Date.parse(snapshot.createdAt) < oldest,
    );
    const removed = await Promise.all(
      evicted.map(async (snapshot) => {
        try {
          await this.docker.getImage(snapshot.image).remove();
          return snapshot.key;
        } catch (error) {
          // In use by a running preview (409) or gone already (404): the next eviction tries again.
          const status = (error as { statusCode?: number }).statusCode;
          if (status === 404 || status === 409) return undefined;
          throw error;
        }
      }),
    );
    return removed.filter((key): key is string => key !== undefined);
  }
  private imageRef(key: string): string {
    return `${this.repository}:${key}`;
  }

  private snapshotOf(image: Docker.ImageInspectInfo): DatabaseSnapshot | undefined {
    return this.fromLabels(image.Config.Labels ?? {}, new Date(image.Created), image.Size);
  }

  private fromLabels(
    labels: Record<string, string>,
    created: Date,
    sizeBytes: number,
  ): DatabaseSnapshot | undefined {
    const key = labels[label.key];
    if (labels[label.snapshot] !== 'true' || !key) return undefined;
    return {
      key,
      image: this.imageRef(key),
      dataPath: labels[label.dataPath] ?? dataPath,
      // The data is outside the image's declared VOLUME: it runs in place, nothing copied first.
      restoredOn: 'layer',
      generationId: labels[label.generation] ?? '',
      createdAt: created.toISOString(),
      sizeBytes,
    };
  }
}

function noop(): void {}

function environment(values: Readonly<Record<string, string>>): string[] {
  return Object.entries(values).map(([name, value]) => `${name}=${value}`);
}

/** Waits for the database's own readiness check to pass (it runs in the container). */
async function untilReady(container: Docker.Container, database: ContainerDefinition): Promise<void> {
  const check = database.healthCheck?.command ?? [];
  const [form, ...args] = check;
  const command = form === 'CMD-SHELL' ? ['/bin/sh', '-c', ...args] : args;
  const deadline = Date.now() + stepTimeoutMs;
  while (Date.now() < deadline) {
    const { State: state } = await container.inspect();
    if (!state.Running) throw new Error(`the database stopped with code ${state.ExitCode}`);
    const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    if ((await exec.inspect()).ExitCode === 0) return;
    await sleep(readyPollMs);
  }
  throw new Error('the database did not get ready in time');
}
