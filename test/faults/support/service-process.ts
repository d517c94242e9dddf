import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsxLoader = fileURLToPath(new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url));
const startScript = `${root}scripts/start.ts`;

/** A free port on loopback, so restarts of one service keep the same address. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * The local service as a user runs it (`npm start`), in a child process of its own: its own data
 * folder (the working directory), port and Docker owner, so it can be killed with SIGKILL and
 * started again on the same state.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(private readonly options: { dataDir: string; port: number; env: Record<string, string> }) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** What the service printed (both streams), for a failing test's message. */
  get log(): string {
    return this.output;
  }

  /** Starts the service and waits until it listens. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', tsxLoader, startScript], {
      cwd: this.options.dataDir,
      env: { ...process.env, ...this.options.env, PREVIEW_PORT: String(this.options.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const from = this.output.length;
    const listening = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString('utf8');
        if (this.output.includes('Preview service listening on', from)) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`The service exited (${code}) before it listened:\n${this.output}`)),
      );
    });
    const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await listening;
    } finally {
      clearTimeout(deadline);
    }
  }

  /** kill -9: no clean-up of any kind runs. */
  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  /** Ctrl+C: the service closes what it has open. */
  async stop(): Promise<void> {
    await this.stopWith('SIGTERM');
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}
