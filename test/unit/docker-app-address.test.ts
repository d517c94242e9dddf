import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { reachableAppAddress } from '#adapters/local/docker-app-address.js';

/** An engine as `docker info` describes it, over a Unix socket unless `host` is given. */
function engine(
  info: { OperatingSystem?: string; SecurityOptions?: string[] | null },
  host?: string,
): Docker {
  return { modem: host ? { host } : { socketPath: '/var/run/docker.sock' }, info: async () => info } as never;
}

describe.skipIf(process.platform !== 'linux')('how the service reaches apps, on a Linux host', () => {
  it('at the container’s address on an engine of this machine', async () => {
    const info = { OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', SecurityOptions: ['name=seccomp'] };
    expect(await reachableAppAddress(engine(info))).toBe('container');
  });

  it('through a published port where the host cannot reach containers', async () => {
    expect(await reachableAppAddress(engine({ OperatingSystem: 'Docker Desktop' }))).toBe('published');
    const rootless = { OperatingSystem: 'Ubuntu 24.04', SecurityOptions: ['name=seccomp', 'name=rootless'] };
    expect(await reachableAppAddress(engine(rootless))).toBe('published');
    expect(await reachableAppAddress(engine({ OperatingSystem: 'Ubuntu' }, 'build-host.internal'))).toBe(
      'published',
    );
  });
});
