import { request } from 'node:http';
import type { TaskRunnerKind } from '#core/task-runner.js';

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
  /** `undefined`: nothing can run previews, and launches answer 503 until Docker is started. */
  readonly kind: TaskRunnerKind | undefined;
  /** What to tell the user once at start, when there is no runner. */
  readonly notice?: string;
}

/**
 * `PREVIEW_RUNNER` wins; otherwise Docker when its engine answers, else nothing. Processes isolate
 * nothing, so they run previews only when asked for by name.
 */
export function chooseRunnerKind(
  configured: TaskRunnerKind | undefined,
  dockerAnswers: boolean,
  socketPath = defaultDockerSocket,
): RunnerChoice {
  if (configured !== undefined) return { kind: configured };
  if (dockerAnswers) return { kind: 'docker' };
  return { kind: undefined, notice: noRuntimeNotice(socketPath) };
}

export function noRuntimeNotice(socketPath = defaultDockerSocket): string {
  return (
    `No Docker engine answers at ${socketPath}, so previews cannot be launched. ` +
    'Start Docker (scripts/docker/ensure-docker-engine.sh) and restart the service, or set ' +
    'PREVIEW_RUNNER=process to run previews as local processes without isolation.'
  );
}
