import { request } from 'node:http';
import type { TaskRunnerKind } from '../../core/task-runner.js';

export const defaultDockerSocket = '/var/run/docker.sock';

/** True when a Docker engine answers `GET /_ping` on the socket within the timeout. */
export async function dockerEngineAnswers(
  socketPath = defaultDockerSocket,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = request(
      // No keep-alive agent: a pooled socket would hold the caller's event loop open.
      { socketPath, path: '/_ping', method: 'GET', agent: false, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    ping.on('error', () => resolve(false));
    ping.end();
  });
}

export interface RunnerChoice {
  readonly kind: TaskRunnerKind;
  /** What to tell the user once at start, when the choice is a fallback. */
  readonly notice?: string;
}

/** `PREVIEW_RUNNER` wins; otherwise Docker when its engine answers, else local processes. */
export function chooseRunnerKind(
  configured: TaskRunnerKind | undefined,
  dockerAnswers: boolean,
  socketPath = defaultDockerSocket,
): RunnerChoice {
  if (configured !== undefined) return { kind: configured };
  if (dockerAnswers) return { kind: 'docker' };
  return {
    kind: 'process',
    notice:
      `No Docker engine answers at ${socketPath}; previews run as local processes with soft limits. ` +
      'Start Docker (scripts/docker/ensure-docker-engine.sh) for isolation and databases.',
  };
}
