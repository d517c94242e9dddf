import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { TestContext } from 'vitest';
import { mintToken } from '#local/mint-token.js';
import { docker } from '../../support/docker.js';
import { freePort, ServiceProcess } from './service-process.js';

declare module 'vitest' {
  interface TaskMeta {
    /** What a fault scenario lost (log lines, previews stuck) and left behind (containers, records). */
    fault?: { lost: number; orphaned: number };
  }
}

/** Records a scenario's losses and leftovers for the fault report, before the test asserts them. */
export function recordFault(context: TestContext, outcome: { lost: number; orphaned: number }): void {
  context.task.meta.fault = outcome;
}

const secret = 'fault-suite-secret-fault-suite-secret';

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

/**
 * One fault scenario's world: a data folder, a generations folder, the service in a child
 * process (killed and restarted at will) and a signed-in user.
 */
export class FaultRun {
  readonly service: ServiceProcess;
  /** The signed-in user's bearer token (a pro-tier JWT). */
  token = '';

  private constructor(
    readonly dataDir: string,
    readonly generationsDir: string,
    port: number,
    env: Record<string, string>,
    /** The engine the service runs previews on (the machine's, unless DOCKER_HOST says otherwise). */
    readonly engine: Docker,
  ) {
    this.service = new ServiceProcess({
      dataDir,
      port,
      env: {
        PREVIEW_JWT_SECRET: secret,
        PREVIEW_RUNNER: 'docker',
        PREVIEW_GENERATIONS_DIR: generationsDir,
        PREVIEW_SWEEP_SECONDS: '2',
        PREVIEW_LAUNCH_HEARTBEAT_SECONDS: '2',
        ...env,
      },
    });
  }

  static async create(env: Record<string, string> = {}, engine: Docker = docker): Promise<FaultRun> {
    const dataDir = await mkdtemp(join(tmpdir(), 'preview-faults-'));
    const run = new FaultRun(dataDir, join(dataDir, 'generations'), await freePort(), env, engine);
    run.token = await mintToken(secret, `faults-${Date.now().toString(36)}`, 'pro');
    return run;
  }

  /**
   * A copy of an example generation under a new id, with `changes` to its generation.json and a
   * marker file that gives it an image of its own (the first launch builds it).
   */
  async generation(example: string, id: string, changes: Record<string, unknown> = {}): Promise<string> {
    const target = join(this.generationsDir, id);
    await cp(join('examples/generations', example), target, { recursive: true });
    const file = join(target, 'generation.json');
    const generation = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...generation, ...changes, id }, null, 2));
    await writeFile(join(target, 'image-marker.txt'), `${id} ${Date.now()}\n`);
    return id;
  }

  async api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const response = await fetch(`${this.service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the text itself.
    }
    return { status: response.status, headers: response.headers, json };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async status(generationId: string): Promise<any> {
    return (await this.api('GET', `/api/generations/${generationId}/preview/status`)).json;
  }

  /** The service's bridges on the engine, each with how many containers are on it. */
  async bridges(): Promise<{ name: string; containers: number }[]> {
    const networks = await this.engine.listNetworks({
      filters: { label: ['preview.pool=true', `preview.owner=${await this.owner()}`] },
    });
    return Promise.all(
      networks.map(async (n) => {
        const { Containers: containers } = await this.engine.getNetwork(n.Id).inspect();
        return { name: n.Name, containers: Object.keys(containers ?? {}).length };
      }),
    );
  }

  /** Stops the service and removes every container, network and volume its previews left. */
  async close(): Promise<void> {
    await this.service.kill();
    const owner = await this.owner();
    // An engine already stopped has nothing left to remove.
    if (owner) await removeOwned(this.engine, owner).catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** The service's name on the engine (its `preview.owner` label), once it has started. */
  private async owner(): Promise<string> {
    return (await readFile(join(this.dataDir, '.local/runtime-owner'), 'utf8').catch(() => '')).trim();
  }
}

/** The containers of a preview, by their `preview.container` name, with their task and state. */
export async function previewContainers(
  previewId: string,
  engine: Docker = docker,
): Promise<{ name: string; task: string; state: string }[]> {
  const listed = await engine.listContainers({ all: true, filters: { label: [`preview.id=${previewId}`] } });
  return listed.map((c) => ({
    name: c.Labels['preview.container'] ?? '',
    task: c.Labels['preview.task'] ?? '',
    state: c.State,
  }));
}

async function removeOwned(docker: Docker, owner: string): Promise<void> {
  const filters = { label: [`preview.owner=${owner}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  const [networks, volumes] = await Promise.all([
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  await Promise.all([
    ...networks.map((n) => docker.getNetwork(n.Id).remove()),
    ...(volumes.Volumes ?? []).map((v) => docker.getVolume(v.Name).remove()),
  ]);
}
