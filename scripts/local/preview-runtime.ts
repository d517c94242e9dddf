import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerImageBuilder } from '../../functions/adapters/local/docker-image-builder.js';
import { DockerTaskRunner, dockerSocketOf } from '../../functions/adapters/local/docker-task-runner.js';
import { chooseRunnerKind, dockerEngineAnswers } from '../../functions/adapters/local/docker-available.js';
import { ProcessImageBuilder } from '../../functions/adapters/local/process-image-builder.js';
import { ProcessTaskRunner } from '../../functions/adapters/local/process-task-runner.js';
import { ConfigError, type Config } from '../../functions/core/config.js';
import type { PreviewRuntime } from '../../functions/handlers/services.js';
import type { TaskStateChangeEvent } from '../../functions/handlers/events/task-state-change.js';
import { startDockerTaskEvents } from './docker-task-events.js';
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

/** Docker when an engine answers (or PREVIEW_RUNNER says so), else local processes. */
export async function createLocalPreviewRuntime(
  config: Config,
  workDir: string,
  logs?: LocalLogs,
): Promise<LocalPreviewRuntime> {
  // DOCKER_HOST, when set, names the engine.
  const docker = new Docker();
  const socket = dockerSocketOf(docker);
  const { kind, notice } = chooseRunnerKind(config.runner, await dockerEngineAnswers(socket), socket);
  const starter = new LocalLaunchStarter();
  const onBuildLog = logs && ((previewId: string, line: string) => logs.buildLine(previewId, line));
  switch (kind) {
    case 'docker': {
      const owner = await runtimeOwner(workDir);
      return {
        imageBuilder: new DockerImageBuilder(docker),
        runner: new DockerTaskRunner(docker, { owner }),
        starter,
        notice,
        watchTaskEvents: (deliver) => startDockerTaskEvents(docker, deliver),
        onBuildLog,
        ...(logs ? { watchLogs: () => logs.followDocker(docker, owner) } : {}),
      };
    }
    case 'process':
      return {
        imageBuilder: new ProcessImageBuilder(join(workDir, 'process-builds')),
        runner: new ProcessTaskRunner(
          logs
            ? { onOutput: (previewId, container, line) => logs.processLine(previewId, container, line) }
            : {},
        ),
        onBuildLog,
        starter,
        notice,
      };
    case 'ecs':
      throw new ConfigError([
        'PREVIEW_RUNNER: ecs runs previews on ECS Fargate in AWS; locally use docker or process',
      ]);
  }
}
