import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, until, type TestService } from '../support/local-service.js';

const run = promisify(execFile);
const bin = 'client/bin/preview.js';
let service: TestService;
let previewId: string | undefined;

/** Runs `preview …` as a user would, against the service; never rejects, the exit code is the answer. */
async function preview(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...cliEnv(), ...env },
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    PREVIEW_API_URL: service.runtime.url,
    PREVIEW_API_TOKEN: service.token,
    NO_COLOR: '1',
  };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  if (skipWithoutDocker) return;
  // The CLI as `npx preview` runs it: the package's bin over its build.
  await run('npm', ['run', '-s', 'build', '--workspace', 'client']);
  service = await startTestService({ tier: 'free' });
}, 180_000);

afterAll(async () => {
  if (skipWithoutDocker) return;
  await service?.close();
  if (previewId) expect(await leftovers(previewId)).toEqual([]);
});

describe.skipIf(skipWithoutDocker)('the preview CLI against a local service on Docker', () => {
  it('launches hello-api with its steps as they happen, then prints its URLs and token', async () => {
    const launched = await preview(['launch', 'hello-api']);
    expect(launched.stderr).toBe('');
    expect(launched.code).toBe(0);
    const lines = launched.stdout.split('\n');
    expect(lines[0]).toMatch(/^Launching hello-api preview_\w+$/);
    for (const step of ['build', 'start', 'first_healthy']) {
      expect(launched.stdout).toMatch(new RegExp(`^  ✓ ${step} \\d+(ms|\\.\\ds)$`, 'm'));
    }
    expect(launched.stdout).toMatch(/^healthy preview_\w+$/m);
    expect(launched.stdout).toMatch(
      /^app +http:\/\/127\.0\.0\.1:\d+\/api\/generations\/hello-api\/preview\/proxy\/$/m,
    );
    expect(launched.stdout).toMatch(/^preview token +pvt_\S+ \(shown once\)$/m);
    // No colour codes when NO_COLOR is set or the output is not a terminal.
    expect(launched.stdout).not.toContain('\u001b[');
    previewId = /preview_\w+/.exec(lines[0] ?? '')?.[0];
  }, 180_000);

  it('reports status as JSON for scripts', async () => {
    const status = await preview(['status', 'hello-api', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ previewInstanceId: previewId, status: 'healthy' });
  });

  it('prints the logs as JSON lines with their cursors, and follows new ones', async () => {
    const asked = await until(
      30,
      () =>
        service.api('POST', '/api/generations/hello-api/preview/request', {
          method: 'GET',
          path: '/hello/cli',
        }),
      (answer) => answer.json?.statusCode === 200,
    );
    expect(asked.json.statusCode).toBe(200);
    const logs = await preview(['logs', 'hello-api', '--json', '--search', 'hello/cli']);
    expect(logs.code).toBe(0);
    expect(jsonLines(logs.stdout)).toEqual([
      expect.objectContaining({
        message: 'GET /hello/cli 200',
        source: 'request',
        cursor: expect.stringMatching(/^\d+-\d+$/),
      }),
    ]);

    const follower = spawn(
      process.execPath,
      [bin, 'logs', 'hello-api', '--follow', '--json', '--search', 'follow'],
      {
        env: cliEnv(),
      },
    );
    let out = '';
    const seen = new Promise<void>((resolve) =>
      follower.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('GET /hello/follow 200')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => follower.on('exit', (code) => resolve(code)));
    // Asked until the follower is connected and the line comes through.
    const asking = setInterval(
      () =>
        void service.api('POST', '/api/generations/hello-api/preview/request', {
          method: 'GET',
          path: '/hello/follow',
        }),
      500,
    );
    await seen;
    clearInterval(asking);
    follower.kill('SIGINT');
    expect(await exited).toBe(0);
    const followed = jsonLines(out.slice(0, out.lastIndexOf('\n')));
    expect(followed.every((line) => line.message === 'GET /hello/follow 200')).toBe(true);
    expect(new Set(followed.map((line) => line.cursor)).size).toBe(followed.length);
  }, 60_000);

  it('exits with the documented codes when something is wrong', async () => {
    expect((await preview(['status', 'never-launched'])).code).toBe(4);
    expect((await preview(['status', 'hello-api'], { PREVIEW_API_TOKEN: 'not-a-token' })).code).toBe(3);
    expect((await preview(['status', 'hello-api'], { PREVIEW_API_TOKEN: '' })).code).toBe(3);
    expect((await preview(['logs', 'hello-api', '--level', 'LOUD'])).code).toBe(2);
    expect((await preview(['launch'])).code).toBe(2);
    expect((await preview(['dance'])).code).toBe(2);
    expect((await preview(['status', 'hello-api'], { PREVIEW_API_URL: 'http://127.0.0.1:1' })).code).toBe(7);
    const help = await preview(['logs', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: preview logs <generationId>/);
  });

  it('exports the logs and lists the audit trail', async () => {
    const csv = await preview(['export', 'hello-api', '--format', 'csv', '--search', 'hello/cli']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split(/\r?\n/)[0]).toBe('timestamp,level,source,message,metadata,cursor');
    expect(csv.stdout).toContain('GET /hello/cli 200');
    const events = await preview(['events', 'hello-api', '--json']);
    expect(events.code).toBe(0);
    expect(JSON.parse(events.stdout).events.map((e: { type: string }) => e.type)).toContain('healthy');
    expect((await preview(['export', 'hello-api', '--format', 'xml'])).code).toBe(2);
  });

  it('deletes the preview', async () => {
    const deleted = await preview(['delete', 'hello-api', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ previewInstanceId: previewId, status: 'stopped' });
    expect((await preview(['extend', 'hello-api'])).code).toBe(5);
    // Watching a stopped preview prints it once and ends.
    const watched = await preview(['status', 'hello-api', '--watch', '--json']);
    expect(watched.code).toBe(0);
    expect(jsonLines(watched.stdout)).toEqual([expect.objectContaining({ status: 'stopped' })]);
  });
});
