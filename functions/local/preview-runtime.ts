import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachableAppAddress } from '#adapters/local/docker-app-address.js';
import { DockerDatabaseSnapshots } from '#adapters/local/docker-database-snapshots.js';
import { DockerImageBuilder } from '#adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { ProcessImageBuilder } from '#adapters/local/process-image-builder.js';
import { ProcessTaskRunner } from '#adapters/local/process-task-runner.js';
import { ConfigError, type Config } from '#core/config.js';
import type { PreviewRuntime, TaskRunnerKind } from '#core/task-runner.js';
import type { TaskStateChangeEvent } from '#core/task-state-change.js';
import { startDockerTaskEvents } from '#adapters/local/docker-task-events.js';
import { LocalLaunchStarter } from './local-launch-starter.js';
import type { LocalLogs } from './local-logs.js';

export interface LocalPreviewRuntime extends PreviewRuntime {
  readonly starter: LocalLaunchStarter;
  /** Emits the runtime's task state changes, where it has any (Docker events). */
  readonly watchTaskEvents?: (
    deliver: (event: TaskStateChangeEvent) => Promise<void>,
  ) => Promise<{ stop(): Promise<void> }>;
  /** Follows the output of the runtime's containers into the local log pipeline (Docker). */
  readonly watchLogs?: () => Promise<{ stop(): Promise<void> }>;
  /** Said once at start when the choice of runner deserves it (no Docker engine). */
  readonly notice: string | undefined;
  /**
   * Ends the runtime's own background work (snapshot builds) and removes what it kept for later
   * (free bridges), leaving nothing behind but the previews themselves.
   */
  readonly close?: () => Promise<void>;
}

/**
 * This service instance's name on a shared Docker engine: kept in the data folder so a restart
 * still recognises (and cleans up) what it started before.
 */
async function runtimeOwner(workDir: string): Promise<string> {
  const file = join(workDir, 'runtime-owner');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const owner = `local-${randomBytes(6).toString('hex')}`;
  await mkdir(workDir, { recursive: true });
  await writeFile(file, `${owner}\n`);
  return owner;
}

/**
 * Who generated code runs as in process mode when the service runs as root: `nobody`, who can read
 * neither `.local/` (0700) nor anything else of the service's.
 */
export const unprivilegedUser = { uid: 65534, gid: 65534 } as const;

/** The runtime of the kind chosen (see `chooseRunnerKind`). */
export async function createLocalPreviewRuntime(
  kind: TaskRunnerKind,
  workDir: string,
  pace: Config['localRuntime'] & Pick<Config, 'launchTimeoutSeconds'>,
  logs?: LocalLogs,
): Promise<LocalPreviewRuntime> {
  const starter = new LocalLaunchStarter(pace.launchConcurrency, pace.launchTimeoutSeconds * 1000);
  const onBuildLog = logs && ((previewId: string, line: string) => logs.buildLine(previewId, line));
  switch (kind) {
    case 'docker': {
      // DOCKER_HOST, when set, names the engine.
      const docker = new Docker();
      const owner = await runtimeOwner(workDir);
      const databaseSnapshots = new DockerDatabaseSnapshots(docker, { owner });
      await databaseSnapshots.removeAbandonedBuilds();
      const appAddress = pace.appAddress === 'auto' ? await reachableAppAddress(docker) : pace.appAddress;
      const runner = new DockerTaskRunner(docker, {
        owner,
        stepTimeoutMs: pace.stepTimeoutSeconds * 1000,
        appAddress,
      });
      return {
        imageBuilder: new DockerImageBuilder(docker),
        runner,
        databaseSnapshots,
        close: async () => {
          await Promise.all([databaseSnapshots.close(), runner.close()]);
        },
        starter,
        notice: undefined,
        watchTaskEvents: (deliver) => startDockerTaskEvents(docker, deliver, owner),
        onBuildLog,
        ...(logs ? { watchLogs: () => logs.followDocker(docker, owner) } : {}),
      };
    }
    case 'process': {
      const asRoot = process.getuid?.() === 0;
      // As root the generations' copies go outside the private data folder, where nobody can read
      // them: a fresh folder of the service's own (another user cannot have planted it).
      const builds = asRoot
        ? await mkdtemp(join(tmpdir(), 'preview-process-builds-'))
        : join(workDir, 'process-builds');
      if (asRoot) await chmod(builds, 0o755);
      return {
        imageBuilder: new ProcessImageBuilder(builds),
        runner: new ProcessTaskRunner({
          stepTimeoutMs: pace.stepTimeoutSeconds * 1000,
          ...(asRoot ? { user: unprivilegedUser } : {}),
          ...(logs
            ? { onOutput: (previewId, container, line) => logs.processLine(previewId, container, line) }
            : {}),
        }),
        onBuildLog,
        starter,
        notice: asRoot
          ? `PREVIEW_RUNNER=process: previews run as local processes as user nobody (uid ${unprivilegedUser.uid}), with soft limits and no isolation.`
          : 'PREVIEW_RUNNER=process: previews run as local processes as your own user, so generated code can read ' +
            'what you can (.local/ included); run the service as root to run them as nobody, or use Docker.',
      };
    }
    case 'ecs':
      throw new ConfigError([
        'PREVIEW_RUNNER: ecs runs previews on ECS Fargate in AWS; locally use docker or process',
      ]);
  }
}
