import { describe, expect, it } from 'vitest';
import {
  diagnoseTaskFailure,
  healthNotFoundFailure,
  lastErrorLine,
  listenerDiagnosis,
  parseSocketTable,
  pythonStartError,
  uninstallablePackages,
  unreachableFailure,
  type DiagnosisContext,
} from '#core/launch-diagnosis.js';
import { apiEndpoints, routesOf } from '#core/openapi-endpoints.js';
import type { TaskFailure } from '#core/task-runner.js';

const context: DiagnosisContext = {
  port: 8000,
  migrationCommand: 'alembic upgrade head',
  seedCommand: 'python -m app.seed',
  memoryMb: { app: 256, migrate: 256, seed: 256, database: 256 },
  ignoredPorts: [5432],
  secrets: ['s3cret-database-password'],
};

/** As the kernel prints them (header, then one socket a line), from a task bound in several ways. */
const tcp = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 58104 1',
  '   1: 0B00007F:B0C3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 57901 1',
  '   2: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 57911 1',
  '   3: 0100007F:A620 0100007F:1F90 06 00000000:00000000 03:0000175D 00000000     0        0 0 3',
].join('\n');
const tcp6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue',
  '   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000',
  '   1: 00000000000000000000000000000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000',
  '   2: 0000000000000000FFFF00000100007F:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000',
].join('\n');

const uvicornImportError = [
  '  File "/usr/lib/python3/dist-packages/uvicorn/importer.py", line 21, in import_from_string',
  '    module = importlib.import_module(module_str)',
  '  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module',
  '    return _bootstrap._gcd_import(name[level:], package, level)',
  '  File "<frozen importlib._bootstrap>", line 1206, in _gcd_import',
  '  File "<frozen importlib._bootstrap_external>", line 940, in exec_module',
  '  File "/app/app/main.py", line 3, in <module>',
  '    from app.helpers import slugify',
  "ModuleNotFoundError: No module named 'app.helpers'",
];

function failure(changes: Partial<TaskFailure>): TaskFailure {
  return { step: 'app', reason: 'exit_nonzero', exitCode: 1, lastLines: [], ...changes };
}

describe('listening sockets', () => {
  it('reads LISTEN sockets of /proc/net/tcp and tcp6, addresses in the kernel’s word order', () => {
    expect(parseSocketTable(`${tcp}\n${tcp6}`)).toEqual([
      { address: '127.0.0.1', port: 8080 },
      { address: '127.0.0.11', port: 45251 },
      { address: '0.0.0.0', port: 5432 },
      { address: '::1', port: 8081 },
      { address: '::', port: 8082 },
      { address: '::ffff:127.0.0.1', port: 8083 },
    ]);
    expect(parseSocketTable('')).toEqual([]);
  });

  it('names loopback-only and the address, ignoring Docker’s resolver and the database', () => {
    const listeners = parseSocketTable(tcp);
    expect(listenerDiagnosis(listeners, { port: 8080, ignoredPorts: [5432] })).toEqual({
      reason: 'loopback_only',
      message: expect.stringContaining('The app listens on 127.0.0.1:8080 only'),
    });
    expect(listenerDiagnosis(listeners, { port: 8080, ignoredPorts: [5432] })?.message).toContain(
      'host="0.0.0.0", port=8080',
    );
  });

  it('names the port an app listens on instead of the expected one', () => {
    const diagnosis = listenerDiagnosis([{ address: '0.0.0.0', port: 8081 }], {
      port: 8000,
      ignoredPorts: [],
    });
    expect(diagnosis).toEqual({
      reason: 'port_mismatch',
      message:
        'The app listens on port 8081 (0.0.0.0:8081), not on port 8000 that generation.json names: ' +
        'set "port": 8081 in generation.json, or make the app listen on $PORT.',
    });
  });

  it('finds nothing wrong with an app on all interfaces (IPv4 or IPv6) or a bridged one', () => {
    for (const address of ['0.0.0.0', '::', '172.18.0.2']) {
      expect(listenerDiagnosis([{ address, port: 8000 }], { port: 8000, ignoredPorts: [] })).toBeUndefined();
    }
    expect(listenerDiagnosis([], { port: 8000, ignoredPorts: [] })).toBeUndefined();
  });
});

describe('build output', () => {
  it('names every package pip could not find', () => {
    const lines = [
      'Step 4/6 : RUN pip install --no-cache-dir -r requirements.txt',
      'ERROR: Could not find a version that satisfies the requirement nonexistent-pkg==9.9 (from versions: none)',
      'ERROR: No matching distribution found for nonexistent-pkg==9.9',
      'ERROR: No matching distribution found for other_pkg',
    ];
    expect(uninstallablePackages(lines)).toEqual(['nonexistent-pkg==9.9', 'other_pkg']);
    expect(
      diagnoseTaskFailure(failure({ step: 'build', reason: 'build_error', lastLines: lines }), context),
    ).toMatchObject({
      step: 'build',
      reason: 'dependency_install',
      message:
        'pip could not install nonexistent-pkg==9.9, other_pkg: no matching distribution was found. Change or remove them in the requirements.',
    });
  });

  it('keeps other build failures generic, with the line that says what failed', () => {
    const lines = [
      'Step 3/5 : RUN make',
      "make: *** No rule to make target 'all'. Stop.",
      'error: exit status 2',
    ];
    expect(
      diagnoseTaskFailure(
        failure({ step: 'build', reason: 'build_error', exitCode: 2, lastLines: lines }),
        context,
      ),
    ).toMatchObject({
      reason: 'build_error',
      message: 'The image build failed with exit code 2: error: exit status 2',
    });
  });
});

describe('Python start errors', () => {
  it('names the module, and the app’s own file and line rather than the loader’s', () => {
    expect(pythonStartError(uvicornImportError)).toEqual({
      error: "ModuleNotFoundError: No module named 'app.helpers'",
      exception: 'ModuleNotFoundError',
      module: 'app.helpers',
      file: '/app/app/main.py',
      line: 3,
    });
    expect(diagnoseTaskFailure(failure({ lastLines: uvicornImportError }), context)).toMatchObject({
      step: 'app',
      reason: 'import_error',
      exitCode: 1,
      message:
        "The app could not start: ModuleNotFoundError: No module named 'app.helpers' (module app.helpers, /app/app/main.py line 3).",
    });
  });

  it('names the file and line of a syntax error, and its module', () => {
    const lines = [
      '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed',
      '  File "/app/app/main.py", line 1',
      '    def broken(:',
      '               ^',
      'SyntaxError: invalid syntax',
    ];
    expect(diagnoseTaskFailure(failure({ lastLines: lines }), context).message).toBe(
      'The app could not start: SyntaxError: invalid syntax (module app.main, /app/app/main.py line 1).',
    );
  });

  it('names the module uvicorn could not load', () => {
    const lines = ['ERROR:    Error loading ASGI app. Could not import module "app.nothere".'];
    expect(diagnoseTaskFailure(failure({ lastLines: lines }), context)).toMatchObject({
      reason: 'import_error',
      message: 'The app could not start: Could not import module "app.nothere" (module app.nothere).',
    });
  });

  it('reports another crash at start as exit_nonzero with its error', () => {
    const lines = [
      'Traceback (most recent call last):',
      '  File "/app/app/main.py", line 9, in <module>',
      "KeyError: 'API_KEY'",
    ];
    expect(diagnoseTaskFailure(failure({ exitCode: 1, lastLines: lines }), context)).toMatchObject({
      reason: 'exit_nonzero',
      message: "The app exited with exit code 1 at start: KeyError: 'API_KEY'",
    });
  });
});

describe('task failures', () => {
  it('names the migration command and its exit code, with the error line', () => {
    const lines = [
      'INFO  [alembic.runtime.migration] Running upgrade  -> 0001, create users',
      'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "user" does not exist',
    ];
    expect(
      diagnoseTaskFailure(failure({ step: 'migrate', exitCode: 1, lastLines: lines }), context),
    ).toMatchObject({
      step: 'migrate',
      reason: 'migration_failed',
      exitCode: 1,
      message:
        'The migration command `alembic upgrade head` failed with exit code 1: sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "user" does not exist',
    });
  });

  it('names the seed command that failed', () => {
    expect(
      diagnoseTaskFailure(failure({ step: 'seed', exitCode: 2, lastLines: ['boom'] }), context),
    ).toMatchObject({
      reason: 'seed_failed',
      message: 'The seed command `python -m app.seed` failed with exit code 2: boom',
    });
  });

  it('names the memory limit an app ran out of', () => {
    expect(diagnoseTaskFailure(failure({ reason: 'out_of_memory', exitCode: 137 }), context)).toMatchObject({
      reason: 'out_of_memory',
      message:
        'The app container ran out of memory at its 256 MB limit: use less memory at start, or a tier with more.',
    });
  });

  it('diagnoses an app that never answered inside its task by what it listens on', () => {
    const listeners = [{ address: '0.0.0.0', port: 5000 }];
    expect(
      diagnoseTaskFailure(failure({ reason: 'health_check', exitCode: undefined, listeners }), context),
    ).toMatchObject({
      reason: 'port_mismatch',
      message: expect.stringContaining('The app listens on port 5000'),
    });
    expect(
      diagnoseTaskFailure(failure({ reason: 'health_check', exitCode: undefined, listeners: [] }), context),
    ).toMatchObject({
      reason: 'health_check',
      message: 'The app did not answer HTTP on port 8000 inside its task: it listens on no TCP port.',
    });
  });

  it('redacts secrets in the message and the last lines, and keeps the last 20 lines', () => {
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => `line ${i}`),
      'could not connect to postgresql://preview:s3cret-database-password@127.0.0.1:5432/preview',
      'Error: password=s3cret-database-password rejected',
    ];
    const diagnosed = diagnoseTaskFailure(failure({ step: 'migrate', lastLines: lines }), context);
    expect(diagnosed.lastLines).toHaveLength(20);
    expect(JSON.stringify(diagnosed)).not.toContain('s3cret-database-password');
    expect(diagnosed.message).toContain('password=***');
  });
});

describe('an app that answers inside its task but not from outside', () => {
  it('names loopback-only from the task’s sockets', () => {
    const diagnosed = unreachableFailure({
      listeners: [{ address: '127.0.0.1', port: 8000 }],
      context,
      healthPath: '/health',
      endpoint: { host: '127.0.0.1', port: 32768 },
      waitedSeconds: 30,
      lastOutcome: 'The app could not be reached.',
      lastLines: ['INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)'],
    });
    expect(diagnosed).toMatchObject({ step: 'app', reason: 'loopback_only' });
    expect(diagnosed.message).toContain('127.0.0.1:8000');
  });

  it('says where it asked and what came back when the sockets cannot be read (ECS)', () => {
    expect(
      unreachableFailure({
        listeners: undefined,
        context,
        healthPath: '/health',
        endpoint: { host: '10.0.1.5', port: 8000 },
        waitedSeconds: 30,
        lastOutcome: 'it answered 500',
        lastLines: [],
      }),
    ).toEqual({
      step: 'app',
      reason: 'health_check',
      message:
        'The app answers inside its task, but GET /health at 10.0.1.5:8000 did not answer 2xx within 30 s (it answered 500).',
      lastLines: [],
    });
  });
});

describe('health endpoint answering 404', () => {
  const document = {
    openapi: '3.1.0',
    paths: {
      '/api/todos': { get: {}, post: {} },
      '/api/todos/{id}': { get: {}, delete: {} },
      '/api/users': { get: {} },
      '/api/users/{id}': { get: {}, parameters: [] },
    },
  };

  it('lists the routes of the OpenAPI document, GETs first', () => {
    expect(routesOf(apiEndpoints(document))).toEqual([
      'GET /api/todos',
      'GET /api/todos/{id}',
      'GET /api/users',
      'GET /api/users/{id}',
      'POST /api/todos',
      'DELETE /api/todos/{id}',
    ]);
    expect(routesOf(apiEndpoints({}))).toEqual([]);
    expect(routesOf(apiEndpoints(null))).toEqual([]);
  });

  it('names five routes and the fix', () => {
    expect(
      healthNotFoundFailure({
        healthPath: '/health',
        routes: routesOf(apiEndpoints(document)),
        lastLines: [],
        secrets: [],
      }).message,
    ).toBe(
      'GET /health answered 404; its routes include GET /api/todos, GET /api/todos/{id}, GET /api/users, GET /api/users/{id}, POST /api/todos and 1 more. ' +
        'Set healthCheckEndpoint in generation.json to a route that answers 2xx, or add GET /health.',
    );
  });
});

describe('lastErrorLine', () => {
  it('prefers the last error over the last line', () => {
    expect(lastErrorLine(['ValueError: bad', 'cleaning up', ''])).toBe('ValueError: bad');
    expect(
      lastErrorLine([
        'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "user" does not exist',
        '[SQL: ALTER TABLE "user" ADD COLUMN nickname VARCHAR]',
        '(Background on this error at: https://sqlalche.me/e/14/f405)',
      ]),
    ).toMatch(/^sqlalchemy\.exc\.ProgrammingError: .*does not exist$/);
    expect(lastErrorLine(['starting', 'FATAL:  password authentication failed', 'bye'])).toBe(
      'FATAL:  password authentication failed',
    );
    expect(lastErrorLine(['all fine', 'done'])).toBe('done');
    expect(lastErrorLine([])).toBeUndefined();
  });
});
