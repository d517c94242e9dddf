import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/local-service.js';
import { leftovers, skipWithoutDocker } from '../support/docker.js';
import { FaultRun, previewContainers, recordFault } from './support/fault-run.js';

/**
 * kill -9 of the service during each step of a PostgreSQL launch (build, database, migrations,
 * seed, app start), then a restart: the launch is taken over and reaches `healthy`, with one
 * task's containers left and the quota slot held once.
 */
describe.skipIf(skipWithoutDocker)('a launch survives the crash of its launcher', () => {
  let run: FaultRun;
  let generationId: string;

  beforeAll(async () => {
    run = await FaultRun.create();
    // Each step lasts long enough to be seen from outside.
    generationId = await run.generation('todo-postgres', `crash-${Date.now().toString(36)}`, {
      migrationCommand: 'sleep 1 && alembic upgrade head',
      seedCommand: 'sleep 1 && python -m app.seed',
      entryPoint: 'sleep 1 && uvicorn app.main:app --host 0.0.0.0 --port 8000 --no-access-log',
    });
    await run.service.start();
  });

  afterAll(async () => {
    await run?.close();
  });

  // Each step starts with no preview, whatever the previous one left when it failed.
  afterEach(async () => {
    await run.api('DELETE', `/api/generations/${generationId}/preview`);
    await until(
      120,
      async () => (await run.api('GET', '/api/previews')).json.quota.used,
      (used) => used === 0,
    );
  });

  type Containers = Awaited<ReturnType<typeof previewContainers>>;
  const running = (containers: Containers, name: string) =>
    containers.some((c) => c.name === name && c.state === 'running');
  const created = (containers: Containers, name: string) =>
    containers.some((c) => c.name === name && c.state === 'created');

  const steps: { step: string; reached: (status: string, containers: Containers) => boolean }[] = [
    { step: 'build', reached: (status) => status === 'building' },
    { step: 'database', reached: (_, c) => running(c, 'database') && created(c, 'migrate') },
    { step: 'migrate', reached: (_, c) => running(c, 'migrate') },
    { step: 'seed', reached: (_, c) => running(c, 'seed') },
    { step: 'app start', reached: (status, c) => running(c, 'app') && status !== 'healthy' },
  ];

  for (const { step, reached } of steps) {
    it(`killed during ${step}: healthy after the restart, nothing orphaned`, async (context) => {
      const launch = await run.api('POST', `/api/generations/${generationId}/preview/launch`, {});
      expect(launch.status, JSON.stringify(launch.json)).toBe(202);
      const previewId: string = launch.json.previewInstanceId;

      // Polled as fast as status answers, for as long as a launch may take (not a count of polls:
      // a faster service would run them out before the step).
      let seen = false;
      for (const deadline = Date.now() + 180_000; !seen && Date.now() < deadline;) {
        const [status, containers] = await Promise.all([
          run.status(generationId),
          previewContainers(previewId),
        ]);
        seen = reached(status.status, containers);
        if (!seen && ['healthy', 'failed'].includes(status.status)) break;
      }
      expect(seen, `the launch never showed its ${step} step\n${run.service.log.slice(-3000)}`).toBe(true);
      await run.service.kill();
      await run.service.start();
      const restarted = Date.now();

      // As long as a launch may take on a loaded machine: the figure that matters is printed below.
      const settled = await until(
        180,
        () => run.status(generationId),
        (s) => ['healthy', 'failed'].includes(s.status),
      );
      console.info(
        `killed during ${step}: ${settled.status} ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
      );
      const containers = await previewContainers(previewId);
      const tasks = new Set(containers.map((c) => c.task));
      const quota = (await run.api('GET', '/api/previews')).json.quota;
      recordFault(context, {
        lost: settled.status === 'healthy' ? 0 : 1,
        orphaned: Math.max(0, tasks.size - 1) + Math.max(0, quota.used - 1),
      });
      expect(settled.status, `${JSON.stringify(settled.failure)}\n${run.service.log.slice(-3000)}`).toBe(
        'healthy',
      );
      expect(tasks.size).toBe(1);
      expect(quota.used).toBe(1);

      expect((await run.api('DELETE', `/api/generations/${generationId}/preview`)).status).toBeLessThan(300);
      const gone = await until(
        120,
        () => leftovers(previewId),
        (left) => left.length === 0,
      );
      expect(gone).toEqual([]);
      expect((await run.api('GET', '/api/previews')).json.quota.used).toBe(0);
      // The restarted service took over the bridge the killed one left (else each step would leave
      // one more): all free again, a second one at most, made while the first was quiet.
      const bridges = await run.bridges();
      expect(bridges.length, JSON.stringify(bridges)).toBeLessThanOrEqual(2);
      expect(bridges.filter((b) => b.containers > 0)).toEqual([]);
    }, 600_000);
  }

  it('killed while its app is slow to answer: healthy once it does, though no event says so', async (context) => {
    // The app's port listens at once but answers only after 15 s. The loopback bridge sees it listen
    // and ends, and the restarted service hears of the task once, at start: no later event tells
    // that the app answers (the engine runs no check of its own).
    const listenSilently =
      'import socket, time; s = socket.socket(); s.bind(("0.0.0.0", 8000)); s.listen(); time.sleep(15)';
    const slow = await run.generation('hello-api', `slow-${Date.now().toString(36)}`, {
      entryPoint: `python3 -c '${listenSilently}' && uvicorn app.main:app --host 0.0.0.0 --port 8000 --no-access-log`,
    });
    try {
      const launch = await run.api('POST', `/api/generations/${slow}/preview/launch`, {});
      expect(launch.status, JSON.stringify(launch.json)).toBe(202);
      const previewId: string = launch.json.previewInstanceId;
      const [status] = await until(
        180,
        async () => [(await run.status(slow)).status, await previewContainers(previewId)] as const,
        ([status, containers]) => status === 'running' && running(containers, 'app'),
      );
      expect(status, 'the app container ran, its preview `running`').toBe('running');
      await run.service.kill();
      await run.service.start();

      const settled = await until(
        180,
        () => run.status(slow),
        (s) => ['healthy', 'failed'].includes(s.status),
      );
      recordFault(context, { lost: settled.status === 'healthy' ? 0 : 1, orphaned: 0 });
      expect(settled.status, `${JSON.stringify(settled.failure)}\n${run.service.log.slice(-3000)}`).toBe(
        'healthy',
      );
    } finally {
      await run.api('DELETE', `/api/generations/${slow}/preview`);
    }
  }, 600_000);
});
