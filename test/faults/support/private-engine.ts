import Docker from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Docker engine of the test's own (its own data root, socket and networks), so restarting it
 * disturbs nothing else on the machine. Needs root, as any dockerd.
 */
export class PrivateEngine {
  readonly docker: Docker;
  readonly host: string;
  private daemon: ChildProcess | undefined;
  private output = '';

  private constructor(private readonly directory: string) {
    const socketPath = join(directory, 'docker.sock');
    this.host = `unix://${socketPath}`;
    this.docker = new Docker({ socketPath });
  }

  static async create(): Promise<PrivateEngine> {
    const directory = await mkdtemp(join(tmpdir(), 'preview-engine-'));
    await mkdir(join(directory, 'exec'));
    return new PrivateEngine(directory);
  }

  /** Starts dockerd and waits until it answers. */
  async start(): Promise<void> {
    const daemon = spawn(
      'dockerd',
      [
        `--data-root=${join(this.directory, 'data')}`,
        `--exec-root=${join(this.directory, 'exec')}`,
        `--pidfile=${join(this.directory, 'docker.pid')}`,
        `--host=${this.host}`,
        '--bridge=none',
        '--iptables=false',
        '--ip-forward=false',
        '--storage-driver=overlay2',
        // Networks of its own, apart from the machine's engine.
        '--default-address-pool=base=10.213.0.0/16,size=24',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.daemon = daemon;
    daemon.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    daemon.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    for (let attempt = 0; attempt < 300; attempt++) {
      if (daemon.exitCode !== null) throw new Error(`dockerd exited:\n${this.output.slice(-2000)}`);
      if (
        await this.docker.ping().then(
          () => true,
          () => false,
        )
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`dockerd did not answer within 30 s:\n${this.output.slice(-2000)}`);
  }

  /** Stops dockerd as a service manager does (SIGTERM: it stops its containers, then exits). */
  async stop(): Promise<void> {
    const daemon = this.daemon;
    this.daemon = undefined;
    if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
    const exited = once(daemon, 'exit');
    daemon.kill('SIGTERM');
    await exited;
  }

  /** Copies images from the machine's engine (`docker save | docker load`). */
  async load(images: readonly string[]): Promise<void> {
    const save = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'inherit'] });
    const load = spawn('docker', ['-H', this.host, 'load', '-q'], { stdio: ['pipe', 'ignore', 'inherit'] });
    save.stdout?.pipe(load.stdin!);
    const [[saved], [loaded]] = await Promise.all([once(save, 'exit'), once(load, 'exit')]);
    if (saved !== 0 || loaded !== 0)
      throw new Error(`loading ${images.join(', ')} failed (${saved}, ${loaded})`);
  }

  /** Removes everything the engine holds, stops it and deletes its data. */
  async close(): Promise<void> {
    if (this.daemon) {
      const containers = await this.docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        containers.map((c) =>
          this.docker
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      await this.stop();
    }
    await rm(this.directory, { recursive: true, force: true });
  }
}
