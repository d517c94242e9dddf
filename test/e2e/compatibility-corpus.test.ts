import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, skipWithoutDocker } from '../support/docker.js';
import { startTestService, until, type TestService } from '../support/local-service.js';

/**
 * The compatibility corpus: generations written the way code generators write them (the spec's
 * defaults, no Dockerfile, ports and addresses in code, gunicorn, factories, async drivers, SQLite,
 * SQL seeds, alembic elsewhere) and the usual ways they break. Each is launched on the local Docker
 * engine and must end as expected: reachable through `…/preview/request` with its data, or failed
 * with its own reason and a message naming the cause, with nothing left on the engine.
 */

interface Reachable {
  /** A GET through `…/preview/request` that answers 200 with (at least) this body. */
  readonly path: string;
  readonly body: object;
}

interface Failure {
  readonly reason: string;
  /** What `failure.message` must name. */
  readonly message: readonly RegExp[];
}

interface CompatibilityCase {
  readonly generationId: string;
  readonly reachable?: Reachable;
  /** The failure expected, or accepted instead of `reachable` when both are given. */
  readonly failure?: Failure;
  /** The generation has no Dockerfile: `config` must show the one generated. */
  readonly dockerfileGenerated?: true;
}

const catalogue = {
  path: '/api/items',
  body: [
    { id: 1, name: 'Mechanical keyboard', price_cents: 8900 },
    { id: 2, name: 'Wireless mouse', price_cents: 2900 },
    { id: 3, name: '27-inch monitor', price_cents: 24900 },
  ],
};

const cases: readonly CompatibilityCase[] = [
  // The spec's defaults: `uvicorn app.main:app` with no address, PostgreSQL, alembic, a seed.
  { generationId: 'spec-default', reachable: catalogue },
  // The same generation with no Dockerfile: one is generated from generation.json.
  { generationId: 'no-dockerfile', reachable: catalogue, dockerfileGenerated: true },
  // `python -m app.main` with `uvicorn.run(app, host="127.0.0.1", port=8080)`: bridged, or named.
  {
    generationId: 'loopback-in-code',
    reachable: { path: '/api/notes', body: [{ id: 1, text: 'Buy milk' }, { id: 2 }] },
    failure: { reason: 'loopback_only', message: [/127\.0\.0\.1:8080/] },
  },
  {
    generationId: 'gunicorn-workers',
    reachable: { path: '/api/quotes', body: [{ author: 'Ada Lovelace' }, { author: 'Grace Hopper' }] },
  },
  {
    generationId: 'app-factory',
    reachable: { path: '/health', body: { status: 'ok', environment: 'preview' } },
  },
  {
    generationId: 'async-postgres',
    reachable: {
      path: '/api/orders',
      body: [
        { customer: 'Ada', total_cents: 12900 },
        { customer: 'Grace', total_cents: 4500 },
      ],
    },
  },
  {
    generationId: 'sqlite-notes',
    reachable: { path: '/api/entries', body: [{ title: 'First day' }, { title: 'Second day' }] },
  },
  {
    generationId: 'seed-sql-file',
    reachable: {
      path: '/api/books',
      body: [
        { title: 'A Wizard of Earthsea', published_year: 1968 },
        { title: 'The Left Hand of Darkness' },
        { author: 'Octavia E. Butler' },
      ],
    },
  },
  {
    generationId: 'alembic-subfolder',
    reachable: { path: '/api/events', body: [{ name: 'PyCon Lisbon' }, { name: 'FastAPI meetup' }] },
  },
  {
    generationId: 'uninstallable-dependency',
    failure: { reason: 'dependency_install', message: [/stripe/] },
  },
  {
    generationId: 'import-error',
    failure: { reason: 'import_error', message: [/app\.routers/, /main\.py/] },
  },
  // `--port 5000` where generation.json says 8000: made to listen where expected, or named.
  {
    generationId: 'wrong-port',
    reachable: { path: '/api/forecasts', body: [{ city: 'Lisbon' }, { city: 'Oslo' }] },
    failure: { reason: 'port_mismatch', message: [/5000/] },
  },
  {
    generationId: 'missing-health-route',
    failure: { reason: 'health_not_found', message: [/\/health\b/, /\/api\/contacts|\/api\/healthz/] },
  },
];

/** Launches at a time: enough to keep the run short, few enough for a loaded 2-core engine. */
const parallelLaunches = 3;
/** A generous bound on one launch (a cold build, a database, migrations, a seed). */
const settleSeconds = 300;

interface Outcome {
  readonly generationId: string;
  readonly previewId?: string;
  readonly status?: string;
  readonly seconds: number;
  readonly problems: readonly string[];
}

let service: TestService;
const outcomes = new Map<string, Outcome>();

/** Runs `check`; what an `expect` in it says when it fails is a problem of the case. */
function problemOf(check: () => void): string[] {
  try {
    check();
    return [];
  } catch (error) {
    return [(error as Error).message.split('\n')[0] ?? String(error)];
  }
}

async function launchAndCheck(testCase: CompatibilityCase): Promise<Outcome> {
  const { generationId, reachable, failure } = testCase;
  const started = performance.now();
  const base = `/api/generations/${generationId}`;
  const launched = await service.api('POST', `${base}/preview/launch`, {});
  if (launched.status !== 202) {
    return {
      generationId,
      seconds: 0,
      problems: [`launch answered ${launched.status}: ${JSON.stringify(launched.json)}`],
    };
  }
  const previewId: string = launched.json.previewInstanceId;
  const status = await until(
    settleSeconds,
    () => service.status(generationId),
    (s) => ['healthy', 'failed', 'stopped'].includes(s.status),
  );
  const seconds = (performance.now() - started) / 1000;
  const problems: string[] = [];

  if (status.status === 'failed' && failure) {
    problems.push(
      ...problemOf(() => expect(status.failure?.reason, 'failure.reason').toBe(failure.reason)),
      ...failure.message.flatMap((pattern) =>
        problemOf(() => expect(status.failure?.message, 'failure.message').toMatch(pattern)),
      ),
    );
  } else if (status.status === 'healthy' && reachable) {
    const answer = await service.api('POST', `${base}/preview/request`, {
      method: 'GET',
      path: reachable.path,
    });
    problems.push(
      ...problemOf(() => expect(answer.status, `request ${reachable.path}`).toBe(200)),
      ...problemOf(() => expect(answer.json?.statusCode, `statusCode of ${reachable.path}`).toBe(200)),
      ...problemOf(() =>
        expect(answer.json?.body, `body of ${reachable.path}`).toMatchObject(reachable.body),
      ),
    );
  } else {
    const wanted = [reachable ? 'healthy' : undefined, failure ? `failed (${failure.reason})` : undefined];
    problems.push(
      `ended ${status.status} (${JSON.stringify(status.failure)}), expected ${wanted.filter(Boolean).join(' or ')}`,
    );
  }

  const config = await service.api('GET', `${base}/preview/config`);
  problems.push(
    ...problemOf(() =>
      expect(config.json?.dockerfile, 'config.dockerfile').toEqual({
        path: 'Dockerfile',
        generated: testCase.dockerfileGenerated ?? false,
      }),
    ),
    ...problemOf(() =>
      testCase.dockerfileGenerated
        ? expect(config.json?.generatedDockerfile, 'config.generatedDockerfile').toMatch(
            /^FROM python:3\.11-slim$/m,
          )
        : expect(config.json?.generatedDockerfile, 'config.generatedDockerfile').toBeNull(),
    ),
  );

  if (status.status !== 'failed') await service.api('DELETE', `${base}/preview`);
  // A failed launch has removed its containers, volumes and network itself; a deleted one too.
  const left = await until(
    90,
    () => leftovers(previewId),
    (found) => found.length === 0,
  );
  if (left.length > 0) problems.push(`left on the engine: ${left.join(', ')}`);
  return { generationId, previewId, status: status.status, seconds, problems };
}

beforeAll(async () => {
  if (skipWithoutDocker) return;
  service = await startTestService({
    tier: 'pro',
    env: { PREVIEW_RESOURCE_TIER_PRO: '{"maxConcurrentPreviews": 20}' },
  });
  const queue = [...cases];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      outcomes.set(next.generationId, await launchAndCheck(next));
    }
  };
  await Promise.all(Array.from({ length: parallelLaunches }, worker));
}, 1_200_000);

afterAll(async () => {
  if (skipWithoutDocker) return;
  const asExpected = cases.filter((c) => outcomes.get(c.generationId)?.problems.length === 0).length;
  for (const c of cases) {
    const outcome = outcomes.get(c.generationId);
    const verdict = outcome?.problems.length === 0 ? 'as expected' : outcome?.problems.join('; ');
    console.info(
      `compatibility: ${c.generationId}: ${outcome?.status ?? 'not launched'} in ${outcome?.seconds.toFixed(1) ?? '?'} s, ${verdict}`,
    );
  }
  console.info(`compatibility: ${asExpected}/${cases.length} as expected`);
  // Whatever a launch that threw on the way left: deleting is idempotent.
  for (const c of cases) await service?.api('DELETE', `/api/generations/${c.generationId}/preview`);
  await service?.close();
});

describe.skipIf(skipWithoutDocker)('the compatibility corpus on the local Docker engine', () => {
  it.each(cases.map((c) => [c.generationId]))('%s ends as expected', (generationId) => {
    expect(outcomes.get(generationId)?.problems).toEqual([]);
  });
});
