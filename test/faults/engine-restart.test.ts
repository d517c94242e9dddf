import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/local-service.js';
import { skipWithoutDocker } from '../support/docker.js';
import { FaultRun, previewContainers, recordFault } from './support/fault-run.js';
import { PrivateEngine } from './support/private-engine.js';

const downSeconds = 10;

/**
 * The Docker engine restarts under two healthy previews. While it is down, launches answer 503
 * `runtime_unavailable` with Retry-After and status, logs and events keep answering; once it is
 * back, each preview is recovered (a new task, a new token) or failed with `runtime_lost`, and
 * nothing is left behind. The engine is one of the test's own, so nothing else is disturbed.
 */
describe.skipIf(skipWithoutDocker)('the Docker engine restarts', () => {
  let engine: PrivateEngine;
  let run: FaultRun;
  const generations: string[] = [];

  beforeAll(async () => {
    engine = await PrivateEngine.create();
    await engine.start();
    await engine.load(['python:3.11-slim']);
    run = await FaultRun.create({ DOCKER_HOST: engine.host }, engine.docker);
    const suffix = Date.now().toString(36);
    for (const name of ['one', 'two'])
      generations.push(await run.generation('hello-api', `engine-${name}-${suffix}`));
    generations.push(await run.generation('hello-api', `engine-late-${suffix}`));
    await run.service.start();
  }, 240_000);

  afterAll(async () => {
    await run?.close();
    await engine?.close();
  });

  it('previews recover or fail with runtime_lost; launches get 503 while it is down; nothing is orphaned', async (context) => {
    const [one, two, late] = generations as [string, string, string];
    const launched = await Promise.all(
      [one, two].map((id) => run.api('POST', `/api/generations/${id}/preview/launch`, {})),
    );
    for (const launch of launched) expect(launch.status, JSON.stringify(launch.json)).toBe(202);
    const previewIds: string[] = launched.map((l) => l.json.previewInstanceId);
    for (const id of [one, two]) {
      const settled = await until(
        90,
        () => run.status(id),
        (s) => ['healthy', 'failed'].includes(s.status),
      );
      expect(settled.status, JSON.stringify(settled.failure)).toBe('healthy');
    }
    const tasksBefore = await Promise.all(
      previewIds.map(async (id) => new Set((await previewContainers(id, engine.docker)).map((c) => c.task))),
    );

    await engine.stop();
    const refused = await run.api('POST', `/api/generations/${late}/preview/launch`, {});
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('runtime_unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    for (const id of [one, two]) {
      expect((await run.api('GET', `/api/generations/${id}/preview/status`)).status).toBe(200);
      expect((await run.api('GET', `/api/generations/${id}/preview/logs`)).status).toBe(200);
      expect((await run.api('GET', `/api/generations/${id}/preview/events`)).status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, downSeconds * 1000));
    await engine.start();

    const outcomes = await Promise.all(
      [one, two].map((id, index) =>
        until(
          60,
          async () => {
            const status = await run.status(id);
            const tasks = new Set(
              (await previewContainers(previewIds[index]!, engine.docker)).map((c) => c.task),
            );
            return { status, tasks };
          },
          ({ status, tasks }) =>
            (status.status === 'healthy' && tasks.size === 1 && !tasks.has([...tasksBefore[index]!][0]!)) ||
            status.status === 'failed',
        ),
      ),
    );
    const stranded = outcomes.filter(
      ({ status, tasks }, index) =>
        !(
          (status.status === 'healthy' && tasks.size === 1 && !tasks.has([...tasksBefore[index]!][0]!)) ||
          (status.status === 'failed' && status.failure?.reason === 'runtime_lost' && tasks.size === 0)
        ),
    ).length;
    const orphaned = outcomes.filter(
      ({ status, tasks }) => status.status === 'failed' && tasks.size > 0,
    ).length;
    recordFault(context, { lost: stranded, orphaned });
    console.info(
      'after the engine restart:',
      outcomes
        .map(({ status }) => `${status.status}${status.failure ? ` (${status.failure.reason})` : ''}`)
        .join(', '),
    );
    expect(
      outcomes.map(({ status, tasks }) => ({
        status: status.status,
        reason: status.failure?.reason,
        tasks: tasks.size,
      })),
      run.service.log.slice(-3000),
    ).toEqual(
      outcomes.map(({ status }) =>
        status.status === 'failed'
          ? { status: 'failed', reason: 'runtime_lost', tasks: 0 }
          : { status: 'healthy', reason: undefined, tasks: 1 },
      ),
    );
    for (const id of [one, two]) {
      const events = (await run.api('GET', `/api/generations/${id}/preview/events`)).json;
      const types = JSON.stringify(events);
      if ((await run.status(id)).status === 'healthy') expect(types).toContain('token_rotated');
    }
    // The engine is back: launches are taken again.
    expect((await run.api('POST', `/api/generations/${late}/preview/launch`, {})).status).toBe(202);

    for (const id of [one, two, late]) {
      expect((await run.api('DELETE', `/api/generations/${id}/preview`)).status).toBeLessThan(300);
    }
    const left = await until(
      120,
      () => engine.docker.listContainers({ all: true, filters: { label: ['preview.managed=true'] } }),
      (containers) => containers.length === 0,
    );
    expect(left).toEqual([]);
  }, 300_000);
});
