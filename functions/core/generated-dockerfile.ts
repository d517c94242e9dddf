import type { Generation } from './generation.js';

/** What a generated Dockerfile is made from: the entry point and the port of `generation.json`. */
export type DockerfileInput = Pick<Generation, 'entryPoint' | 'port'>;

/** Every interface of the container: the published port (or the task's address) must reach the app. */
const allInterfaces = '0.0.0.0';

/**
 * The Dockerfile of a generation that brings none, after the spec's template: the base image,
 * requirements installed (from the base image's packages: there is no index to download from),
 * the files copied, an unprivileged user, and the entry point listening on every interface at
 * the generation's port. The address is given through the environment variables the usual
 * servers read (uvicorn, gunicorn, apps reading HOST/PORT), so the entry point runs as written.
 * No HEALTHCHECK: the task definition carries the health check, in Docker and in ECS alike.
 */
export function generateDockerfile(generation: DockerfileInput, paths: Iterable<string>): string {
  const port = String(generation.port);
  const hasRequirements = [...paths].includes('requirements.txt');
  return [
    '# Generated from generation.json: the generation has no Dockerfile of its own.',
    'FROM python:3.11-slim',
    '',
    '# The app runs on a read-only root file system: it writes no .pyc files, and logs unbuffered.',
    'ENV PYTHONDONTWRITEBYTECODE=1 \\',
    '    PYTHONUNBUFFERED=1',
    '',
    'WORKDIR /app',
    '',
    ...(hasRequirements
      ? ['COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt', '']
      : ['# No requirements.txt: the packages of the base image serve the app.', '']),
    'COPY . .',
    '',
    '# Servers that read their address from the environment listen on every interface, at the port.',
    `ENV HOST=${allInterfaces} \\`,
    `    PORT=${port} \\`,
    `    UVICORN_HOST=${allInterfaces} \\`,
    `    UVICORN_PORT=${port} \\`,
    `    GUNICORN_CMD_ARGS="--bind ${allInterfaces}:${port}"`,
    '',
    '# nobody: the app never runs as root.',
    'USER 65534:65534',
    `EXPOSE ${port}`,
    // JSON (exec form): the entry point arrives at the shell exactly as written, newlines included.
    `CMD ${JSON.stringify(['sh', '-c', generation.entryPoint])}`,
    '',
  ].join('\n');
}
