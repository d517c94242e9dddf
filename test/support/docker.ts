import Docker from 'dockerode';

export const docker = new Docker();

/** Why Docker tests cannot run here, or undefined when an engine answers. */
export const dockerMissing: string | undefined = await docker.ping().then(
  () => undefined,
  (error: Error) =>
    `No Docker engine answers (${error.message}); scripts/docker/ensure-docker-engine.sh starts one.`,
);

/** In CI a missing engine fails the Docker suites; on a developer machine it skips them, saying why. */
export const skipWithoutDocker = dockerMissing !== undefined && process.env.CI !== 'true';
if (skipWithoutDocker) console.warn(`Skipping Docker-backed tests. ${dockerMissing}`);

/** Everything the engine still holds with the preview's label. */
export async function leftovers(previewId: string): Promise<string[]> {
  const filters = { label: [`preview.id=${previewId}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names.join(',')}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}
