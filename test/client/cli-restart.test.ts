import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { docker, leftovers, skipWithoutDocker } from '../support/docker.js';
import { FaultRun } from '../faults/support/fault-run.js';
import { until } from '../support/local-service.js';

const run = promisify(execFile);
const bin = 'client/bin/preview.js';
const examples = fileURLToPath(new URL('../../examples/generations', import.meta.url));
/** Each numbered request to hello-api prints `GET /hello/restart-<n> 200`; the follower searches for them. */
const marker = 'hello/restart-';

/** The CLI as a child process, with what it printed so far, line by line. */
class CliProcess {
  readonly out: string[] = [];
  readonly err: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.collect(this.child.stdout!, this.out);
    this.collect(this.child.stderr!, this.err);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => this.wake());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private collect(stream: NodeJS.ReadableStream, lines: string[]): void {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves once `done` holds for what was printed; fails after `timeoutMs` or when the CLI exits. */
  async until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (done()) finish();
        else if (!this.running) finish(new Error(`the CLI exited before ${what}: ${this.err.join('\n')}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${this.err.join('\n')}`)),
        timeoutMs,
      );
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.waiters.add(check);
    });
  }

  stop(signal: NodeJS.Signals = 'SIGINT'): void {
    if (this.running) this.child.kill(signal);
  }
}

describe.skipIf(skipWithoutDocker)('the preview CLI across restarts of the service', () => {
  let service: FaultRun;
  let follower: CliProcess | undefined;
  let previewId = '';

  const cliEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    PREVIEW_API_URL: service.service.url,
    PREVIEW_API_TOKEN: service.token,
    NO_COLOR: '1',
  });

  async function preview(args: string[]) {
    try {
      const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
        env: cliEnv(),
        timeout: 180_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  /** A numbered line through the service's proxy: the app logs the request. */
  async function throughProxy(n: number): Promise<void> {
    const answer = await service.api('POST', '/api/generations/hello-api/preview/request', {
      method: 'GET',
      path: `/hello/restart-${n}`,
    });
    expect(answer.json?.statusCode, JSON.stringify(answer.json)).toBe(200);
  }

  /** A numbered line while the service is down: straight to the app, where the service reaches it. */
  async function straightToApp(n: number): Promise<void> {
    const endpoint = (await new DockerTaskRunner(docker).describe(previewId))?.endpoint;
    expect(endpoint, 'the app has an endpoint').toBeDefined();
    const answer = await fetch(`http://${endpoint!.host}:${endpoint!.port}/hello/restart-${n}`);
    expect(answer.status).toBe(200);
  }

  async function stopApp(): Promise<void> {
    const [app] = await docker.listContainers({
      filters: { label: [`preview.id=${previewId}`, 'preview.container=app'], status: ['running'] },
    });
    await docker.getContainer(app!.Id).stop({ t: 5 });
  }

  /** Waits until the preview's events say it was recovered. */
  async function recovered(): Promise<void> {
    const eventTypes = await until(
      90,
      async () =>
        (await service.api('GET', '/api/generations/hello-api/preview/events')).json.events.map(
          (e: { type: string }) => e.type,
        ) as string[],
      (types) => types.includes('recovered'),
    );
    expect(eventTypes).toContain('recovered');
  }

  /** The numbers of the lines the follower printed, in order. */
  const followed = () =>
    (follower?.out ?? [])
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { message: string; cursor: string })
      .map((line) => ({ n: Number(/restart-(\d+) /.exec(line.message)?.[1]), cursor: line.cursor }));

  const printedUpTo = (n: number) => () => followed().some((line) => line.n === n);

  /** Waits until the follower has tried again and failed at least twice since `from`: it backs off. */
  const backingOff = (from: number) => () =>
    (follower?.err ?? []).slice(from).filter((line) => line.startsWith('reconnecting in')).length >= 2;

  beforeAll(async () => {
    if (skipWithoutDocker) return;
    await run('npm', ['run', '-s', 'build', '--workspace', 'client']);
    // The examples as they are: hello-api's image is the one other tests build and cache.
    service = await FaultRun.create({ PREVIEW_GENERATIONS_DIR: examples });
    await service.service.start();
  }, 180_000);

  afterAll(async () => {
    if (skipWithoutDocker) return;
    follower?.stop('SIGKILL');
    await service?.close();
  });

  it('launches hello-api with its steps as they happen, ending healthy with its URLs', async () => {
    const launched = await preview(['launch', 'hello-api']);
    expect(launched.stderr).toBe('');
    expect(launched.code).toBe(0);
    expect(launched.stdout).toMatch(/^Launching hello-api preview_\w+$/m);
    for (const step of ['build', 'start', 'first_healthy']) {
      expect(launched.stdout).toMatch(new RegExp(`^  ✓ ${step} \\d+(ms|\\.\\ds)$`, 'm'));
    }
    expect(launched.stdout).toMatch(/^healthy preview_\w+$/m);
    expect(launched.stdout).toMatch(
      /^app +http:\/\/127\.0\.0\.1:\d+\/api\/generations\/hello-api\/preview\/proxy\/$/m,
    );
    expect(launched.stdout).toMatch(
      /^live stream +ws:\/\/127\.0\.0\.1:\d+\/api\/generations\/hello-api\/preview\/logs$/m,
    );
    previewId = /^healthy (preview_\w+)$/m.exec(launched.stdout)?.[1] ?? '';
  }, 180_000);

  it('logs --follow prints every line once, in order, through a SIGTERM, then a SIGKILL and a recovery', async () => {
    expect(previewId).not.toBe('');
    follower = new CliProcess(['logs', 'hello-api', '--follow', '--json', '--search', marker], cliEnv());
    let n = 0;
    for (const end = n + 3; n < end;) await throughProxy(++n);
    await follower.until(`line ${n}`, printedUpTo(n));

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const errFrom = follower.err.length;
      if (signal === 'SIGTERM') await service.service.stop();
      else await service.service.kill();
      // The app goes on; what it prints while the service is down must arrive all the same.
      for (const end = n + 2; n < end;) await straightToApp(++n);
      // And after the kill, the app stops too: the restarted service recovers it, with a new token.
      if (signal === 'SIGKILL') await stopApp();
      await follower.until(`backoff after ${signal}`, backingOff(errFrom));
      expect(follower.running).toBe(true);
      await service.service.start();
      // After the kill the app is recovered: a new task, which may answer at the old one's address
      // (its bridge comes back to it) before the recovery is recorded and requests are let through.
      if (signal === 'SIGKILL') await recovered();
      // Healthy again and reachable through the proxy (its health route logs no numbered line).
      const reachable = await until(
        90,
        () =>
          service.api('POST', '/api/generations/hello-api/preview/request', {
            method: 'GET',
            path: '/health',
          }),
        (answer) => answer.json?.statusCode === 200,
      );
      expect(reachable.json?.statusCode, JSON.stringify(reachable.json)).toBe(200);
      for (const end = n + 3; n < end;) await throughProxy(++n);
      await follower.until(`line ${n} after ${signal}`, printedUpTo(n));
    }

    const lines = followed();
    expect(
      lines.map((line) => line.n),
      follower.err.join('\n'),
    ).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(new Set(lines.map((line) => line.cursor)).size).toBe(n);
    follower.stop();
    expect(await follower.exited).toBe(0);
  }, 150_000);

  it('deletes the preview, leaving nothing behind', async () => {
    const deleted = await preview(['delete', 'hello-api', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ previewInstanceId: previewId, status: 'stopped' });
    expect(await leftovers(previewId)).toEqual([]);
  }, 60_000);
});
