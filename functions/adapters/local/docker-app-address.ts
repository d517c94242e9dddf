import type Docker from 'dockerode';

/** How the service reaches a preview's app: see `localRuntime.appAddress` in the config. */
export type AppAddress = 'container' | 'published';

/**
 * `container` where the host reaches a container's address on its bridge: an engine on this
 * Linux machine, over its socket, neither inside a VM (Docker Desktop) nor rootless (whose
 * bridges live in a namespace of their own); `published` otherwise.
 */
export async function reachableAppAddress(docker: Docker): Promise<AppAddress> {
  if (process.platform !== 'linux' || (docker.modem as { host?: unknown }).host) return 'published';
  const info = (await docker.info()) as { OperatingSystem?: string; SecurityOptions?: string[] | null };
  const inVm = /docker desktop/i.test(info.OperatingSystem ?? '');
  const rootless = (info.SecurityOptions ?? []).some((option) => option.includes('rootless'));
  return inVm || rootless ? 'published' : 'container';
}
