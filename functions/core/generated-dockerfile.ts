import { bindEntryPoint, listenEnvironment } from './app-binding.js';

/** What a generated Dockerfile is made from: the entry point and the port of `generation.json`. */
export interface DockerfileInput {
  readonly entryPoint: string;
  readonly port: number;
}

/**
 * The Dockerfile of a generation that brings none, after the spec's template: the base image,
 * requirements installed (from the base image's packages: there is no index to download from),
 * the files copied, an unprivileged user, and the entry point listening on every interface at
 * the generation's port, the way the service runs it (app-binding.ts): the environment variables
 * the usual servers read, and the entry point with the flags that say otherwise rewritten.
 * No HEALTHCHECK: the task definition carries the health check, in Docker and in ECS alike.
 */
export function generateDockerfile(generation: DockerfileInput, paths: Iterable<string>): string {
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
    ...listenLines(generation.port),
    '',
    '# nobody: the app never runs as root.',
    'USER 65534:65534',
    `EXPOSE ${generation.port}`,
    // JSON (exec form): the command arrives at the shell exactly as written, newlines included.
    `CMD ${JSON.stringify(['sh', '-c', bindEntryPoint(generation.entryPoint, generation.port).command])}`,
    '',
  ].join('\n');
}

/** One ENV instruction, a variable a line; values are addresses, ports and flags: nothing to escape. */
function listenLines(port: number): string[] {
  const variables = Object.entries(listenEnvironment(port, {}));
  return variables.map(
    ([name, value], index) =>
      `${index === 0 ? 'ENV ' : '    '}${name}="${value}"${index < variables.length - 1 ? ' \\' : ''}`,
  );
}
