import { describe, expect, it } from 'vitest';
import { logEntry, type LineOrigin } from '#core/log-entry.js';

const at = Date.parse('2025-10-20T12:20:15.000Z');
const app: LineOrigin = { container: 'app', secrets: [] };
const entry = (message: string, origin: LineOrigin = app, id = '7') =>
  logEntry({ id, timestamp: at, message }, origin);

describe('log entries from raw lines', () => {
  it("parses the examples' JSON request lines into the seed's shape", () => {
    const line = JSON.stringify({
      level: 'INFO',
      source: 'request',
      message: 'GET /api/users 200',
      metadata: { method: 'GET', path: '/api/users', statusCode: 200, duration: 45 },
    });
    expect(entry(`${line}\n`)).toEqual({
      timestamp: '2025-10-20T12:20:15.000Z',
      level: 'INFO',
      source: 'request',
      message: 'GET /api/users 200',
      metadata: { method: 'GET', path: '/api/users', statusCode: 200, duration: 45 },
      cursor: `${at}-7`,
    });
  });

  it('reads other JSON loggers: levelname/msg, WARNING, extra fields as metadata', () => {
    expect(entry('{"levelname": "WARNING", "msg": "slow SQL statement", "elapsed": 1.5}')).toMatchObject({
      level: 'WARN',
      source: 'database',
      message: 'slow SQL statement',
      metadata: { elapsed: 1.5 },
    });
    expect(entry('{"severity": "critical", "message": "disk full"}')).toMatchObject({ level: 'ERROR' });
    expect(entry('{"message": "no level", "source": "not-a-source"}')).toMatchObject({
      level: 'INFO',
      source: 'system',
    });
  });

  it("classifies uvicorn's access lines as requests, with the level from the status", () => {
    expect(entry('INFO:     172.17.0.1:51234 - "GET /health HTTP/1.1" 200 OK')).toMatchObject({
      level: 'INFO',
      source: 'request',
      message: 'GET /health 200',
      metadata: { method: 'GET', path: '/health', statusCode: 200, client: '172.17.0.1:51234' },
    });
    expect(entry('INFO:     127.0.0.1:1 - "POST /todos HTTP/1.1" 422 Unprocessable Entity')).toMatchObject({
      level: 'WARN',
    });
    expect(entry('INFO:     127.0.0.1:1 - "GET /boom HTTP/1.1" 500 Internal Server Error')).toMatchObject({
      level: 'ERROR',
      source: 'request',
    });
  });

  it("classifies uvicorn's own lines: startup, errors and tracebacks", () => {
    expect(entry('INFO:     Started server process [8]')).toMatchObject({
      level: 'INFO',
      source: 'startup',
      message: 'Started server process [8]',
    });
    expect(entry('INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)')).toMatchObject({
      source: 'startup',
    });
    expect(entry('ERROR:    Exception in ASGI application')).toMatchObject({
      level: 'ERROR',
      source: 'error',
    });
    expect(entry('Traceback (most recent call last):')).toMatchObject({ level: 'ERROR', source: 'error' });
    expect(entry('  File "/app/app/main.py", line 80, in boom')).toMatchObject({ source: 'error' });
    expect(entry('RuntimeError: boom')).toMatchObject({ level: 'ERROR', source: 'error' });
  });

  it('classifies by container: the database sidecar, migrations, image builds', () => {
    const database = { container: 'database', secrets: [] };
    expect(
      entry('2025-10-20 12:20:15.000 UTC [1] LOG:  database system is ready to accept connections', database),
    ).toMatchObject({ level: 'INFO', source: 'database' });
    expect(entry('2025-10-20 12:20:15.000 UTC [9] FATAL:  role "x" does not exist', database)).toMatchObject({
      level: 'ERROR',
      source: 'database',
    });
    expect(
      entry('INFO  [alembic.runtime.migration] Running upgrade  -> 0001', {
        container: 'migrate',
        secrets: [],
      }),
    ).toMatchObject({ level: 'INFO', source: 'database' });
    expect(
      entry('Step 3/7 : RUN pip install -r requirements.txt', { container: 'build', secrets: [] }),
    ).toMatchObject({ level: 'INFO', source: 'build' });
    expect(entry('ERROR: failed to solve: exit code 1', { container: 'build', secrets: [] })).toMatchObject({
      level: 'ERROR',
      source: 'build',
    });
  });

  it('infers the level of plain lines from what they say', () => {
    expect(entry('hello')).toMatchObject({ level: 'INFO', source: 'system', metadata: {} });
    expect(entry('warning: cache is cold')).toMatchObject({ level: 'WARN' });
    expect(entry('could not connect: connection failed')).toMatchObject({ level: 'ERROR', source: 'error' });
  });

  it('skips blank lines', () => {
    expect(entry('')).toBeUndefined();
    expect(entry('   \n')).toBeUndefined();
  });
});
