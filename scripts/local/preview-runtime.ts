import Docker from 'dockerode';
import { join } from 'node:path';
import { DockerImageBuilder } from '../../functions/adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '../../functions/adapters/local/docker-task-runner.js';
import { chooseRunnerKind, dockerEngineAnswers } from '../../functions/adapters/local/docker-available.js';
import { ProcessImageBuilder } from '../../functions/adapters/local/process-image-builder.js';
import { ProcessTaskRunner } from '../../functions/adapters/local/process-task-runner.js';
import { ConfigError, type Config } from '../../functions/core/config.js';
import type { PreviewRuntime } from '../../functions/handlers/services.js';
import type { TaskStateChangeEvent } from '../../functions/handlers/events/task-state-change.js';
import { startDockerTaskEvents } from './docker-task-events.js';
import { LocalLaunchStarter } from './local-launch-starter.js';

export interface LocalPreviewRuntime extends PreviewRuntime {
  readonly starter: LocalLaunchStarter;
  /** Emits the runtime's task state changes, where it has any (Docker events). */
  readonly watchTaskEvents?: (
    deliver: (event: TaskStateChangeEvent) => Promise<void>,
  ) => Promise<{ stop(): Promise<void> }>;
  /** Said once at start when the choice of runner deserves it (no Docker engine). */
  readonly notice: string | undefined;
}

/** Docker when an engine answers (or PREVIEW_RUNNER says so), else local processes. */
export async function createLocalPreviewRuntime(
  config: Config,
  workDir: string,
): Promise<LocalPreviewRuntime> {
  const { kind, notice } = chooseRunnerKind(config.runner, await dockerEngineAnswers());
  const starter = new LocalLaunchStarter();
  switch (kind) {
    case 'docker': {
      const docker = new Docker();
      return {
        imageBuilder: new DockerImageBuilder(docker),
        runner: new DockerTaskRunner(docker),
        starter,
        notice,
        watchTaskEvents: (deliver) => startDockerTaskEvents(docker, deliver),
      };
    }
    case 'process':
      return {
        imageBuilder: new ProcessImageBuilder(join(workDir, 'process-builds')),
        runner: new ProcessTaskRunner(),
        starter,
        notice,
      };
    case 'ecs':
      throw new ConfigError([
        'PREVIEW_RUNNER: ecs runs previews on ECS Fargate in AWS; locally use docker or process',
      ]);
  }
}
