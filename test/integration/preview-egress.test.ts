import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { DockerImageBuilder } from '#adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { newDatabasePassword, newPreviewId } from '#core/ids.js';
import { buildTaskDefinition } from '#core/task-definition.js';
import { defaultTiers } from '#core/tiers.js';
import { docker, dockerMissing, leftovers, skipWithoutDocker } from '../support/docker.js';

const runner = new DockerTaskRunner(docker);
const previewId = newPreviewId(new Date());

/** Tries a TCP connection to each address on one port; prints `address open|closed` per line. */
const probe = `
import socket, sys
port = int(sys.argv[1])
for address in sys.argv[2:]:
    try:
        socket.create_connection((address, port), timeout=3).close()
        print(address, "open")
    except OSError:
        print(address, "closed")
`;

let hostService: Server;
let hostPort: number;
const connectionsFrom: string[] = [];
let appImage: string;

/** Every IPv4 address the host owns outside loopback: eth0, docker0 and each bridge. */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
}

function parseProbe(output: string): Record<string, string> {
  return Object.fromEntries(
    output
      .split(/\r?\n/)
      .map((line) => line.trim().split(' '))
      .filter((words) => words.length === 2),
  );
}

async function probeFromPreview(addresses: string[]): Promise<Record<string, string>> {
  const [app] = await docker.listContainers({
    filters: { label: [`preview.id=${previewId}`, 'preview.container=app'] },
  });
  if (!app) throw new Error('no app container');
  const exec = await docker.getContainer(app.Id).exec({
    Cmd: ['python', '-c', probe, String(hostPort), ...addresses],
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
  });
  const stream = await exec.start({ Tty: true });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.on('end', resolve));
  return parseProbe(Buffer.concat(chunks).toString('utf8'));
}

/** The same probe from a container on a bridge of its own that is not a preview's (not `pv-…`). */
async function probeFromOtherBridge(addresses: string[]): Promise<Record<string, string>> {
  const network = await docker.createNetwork({
    Name: `egress-control-${previewId}`,
    Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
  });
  const container = await docker.createContainer({
    Image: appImage,
    Entrypoint: ['python', '-c', probe, String(hostPort), ...addresses],
    Tty: true,
    HostConfig: { NetworkMode: network.id },
  });
  try {
    await container.start();
    await container.wait();
    const logs = await container.logs({ stdout: true, stderr: true });
    return parseProbe(logs.toString('utf8'));
  } finally {
    await container.remove({ force: true });
    await network.remove();
  }
}

describe.skipIf(skipWithoutDocker)('a preview cannot reach the host', () => {
  beforeAll(async () => {
    if (dockerMissing) throw new Error(dockerMissing);
    hostService = createServer((socket) => {
      connectionsFrom.push(socket.remoteAddress ?? '?');
      socket.destroy();
    });
    await new Promise<void>((resolve) => hostService.listen(0, '0.0.0.0', resolve));
    hostPort = (hostService.address() as { port: number }).port;

    const source = await new DirectoryGenerationStore('examples/generations').load('hello-api');
    if (!source) throw new Error('example generation hello-api is missing');
    appImage = (await new DockerImageBuilder(docker).ensureImage(source, () => {})).imageRef;
    await runner.run(
      buildTaskDefinition({
        previewId,
        generation: source.generation,
        tier: defaultTiers.free,
        appImage,
        databasePassword: newDatabasePassword(),
      }),
    );
  }, 180_000);
  afterAll(async () => {
    await runner.stop(previewId);
    await runner.close();
    await new Promise((resolve) => hostService.close(resolve));
    expect(await leftovers(previewId)).toEqual([]);
  });

  it('has a bridge to itself, named for the host firewall', async () => {
    const [app] = await docker.listContainers({
      filters: { label: [`preview.id=${previewId}`, 'preview.container=app'] },
    });
    const bridge = await docker.getNetwork(app!.HostConfig.NetworkMode).inspect();
    expect(bridge.Name).toMatch(/^pv-[0-9a-f]{12}$/);
    expect(bridge.Options?.['com.docker.network.bridge.name']).toBe(bridge.Name);
    expect(Object.keys(bridge.Containers ?? {})).toEqual([app!.Id]);
  });

  it(
    'is refused on every host address, while a container outside previews gets through',
    { timeout: 60_000 },
    async () => {
      const addresses = hostAddresses();
      expect(addresses.length).toBeGreaterThan(0);

      const outside = await probeFromOtherBridge(addresses);
      // The control: the probe does see a host port where nothing closes it.
      expect(Object.values(outside)).toContain('open');
      const reachedByControl = connectionsFrom.length;
      expect(reachedByControl).toBeGreaterThan(0);

      const fromPreview = await probeFromPreview(addresses);
      expect(fromPreview).toEqual(Object.fromEntries(addresses.map((a) => [a, 'closed'])));
      expect(connectionsFrom).toHaveLength(reachedByControl);
    },
  );
});
