import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';

export const docker = new Docker();
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const run = promisify(execFile);

/** What `npm test` does first: a Docker engine that answers, and the offline base images. */
export async function prepareDocker(): Promise<void> {
  for (const script of ['scripts/docker/ensure-docker-engine.sh', 'scripts/images/build-base-images.sh']) {
    const { stdout } = await run('bash', [script], {
      cwd: repoRoot,
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const lastLine = stdout.trim().split('\n').at(-1) ?? '';
    console.log(`  ${script}: ${lastLine}`);
  }
}

/** Where the app answers on this host (a published port or its container's address), as the service reaches it. */
export async function appOrigin(previewId: string): Promise<string> {
  const endpoint = (await new DockerTaskRunner(docker).describe(previewId))?.endpoint;
  if (!endpoint) throw new Error(`Preview ${previewId} has no app this host can reach`);
  return `http://${endpoint.host}:${endpoint.port}`;
}

/** Containers, networks and volumes the engine still holds for these previews. */
export async function leftovers(previewIds: ReadonlySet<string>): Promise<string[]> {
  const filters = { label: ['preview.managed=true'] };
  const ours = (labels: Record<string, string> | null | undefined) =>
    previewIds.has(labels?.['preview.id'] ?? '');
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.filter((c) => ours(c.Labels)).map((c) => `container ${c.Id.slice(0, 12)}`),
    ...networks.filter((n) => ours(n.Labels)).map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).filter((v) => ours(v.Labels)).map((v) => `volume ${v.Name}`),
  ];
}

/** Preview bridges on the engine that no container is on: on a quiet engine, the bench's service keeps them. */
export async function freeBridges(): Promise<number> {
  const pooled = await docker.listNetworks({ filters: { label: ['preview.pool=true'] } });
  const inspected = await Promise.all(pooled.map((n) => docker.getNetwork(n.Id).inspect()));
  return inspected.filter((n) => Object.keys(n.Containers ?? {}).length === 0).length;
}

/** Removes what the service should have removed already: the last line of defence. */
export async function removeLeftovers(previewIds: ReadonlySet<string>): Promise<number> {
  let removed = 0;
  for (const previewId of previewIds) {
    const filters = { label: [`preview.id=${previewId}`] };
    for (const c of await docker.listContainers({ all: true, filters })) {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
      removed += 1;
    }
    for (const n of await docker.listNetworks({ filters })) {
      await docker.getNetwork(n.Id).remove();
      removed += 1;
    }
    for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) {
      await docker.getVolume(v.Name).remove();
      removed += 1;
    }
  }
  return removed;
}

/** `preview-app:<hash>` tags whose image was built for one of these generations. */
export async function imagesOfGenerations(generationIds: ReadonlySet<string>): Promise<string[]> {
  const images = await docker.listImages({ filters: { label: ['preview.managed=true'] } });
  return images
    .filter((image) => generationIds.has(image.Labels?.['preview.generation'] ?? ''))
    .flatMap((image) => (image.RepoTags ?? []).filter((tag) => tag.startsWith('preview-app:')));
}

/** The tags of the engine's database snapshots (the service's `preview-db-snapshot:<key>` images). */
export async function snapshotImages(): Promise<string[]> {
  const images = await docker.listImages({ filters: { reference: ['preview-db-snapshot'] } });
  return images.flatMap((image) => image.RepoTags ?? []);
}

/** Removes these tags (and the layers only they used); answers the tags that were there. */
export async function removeImages(tags: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const tag of tags) {
    try {
      await docker.getImage(tag).remove();
      removed.push(tag);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }
  return removed;
}
