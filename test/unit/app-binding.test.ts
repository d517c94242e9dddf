import { describe, expect, it } from 'vitest';
import { bindEntryPoint, listenEnvironment } from '#core/app-binding.js';

describe('bindEntryPoint', () => {
  it('leaves entry points that already listen where expected, or that the environment binds', () => {
    for (const entryPoint of [
      'uvicorn app.main:app',
      'uvicorn app.main:app --host 0.0.0.0 --port 8000',
      'python -m app.main',
      'gunicorn -k uvicorn.workers.UvicornWorker app.main:app',
      'gunicorn -w 2 -b 0.0.0.0:8000 app.main:app',
    ]) {
      expect(bindEntryPoint(entryPoint, 8000)).toEqual({ command: entryPoint, changes: [] });
    }
  });

  it('rewrites a loopback --host and a --port that disagrees with the generation', () => {
    expect(bindEntryPoint('uvicorn app.main:app --host 127.0.0.1 --port 8080', 8000)).toEqual({
      command: 'uvicorn app.main:app --host 0.0.0.0 --port 8000',
      changes: ['--host 127.0.0.1 → --host 0.0.0.0', '--port 8080 → --port 8000'],
    });
    expect(bindEntryPoint('python -m uvicorn app.main:app --host=localhost --port=9000', 9000).command).toBe(
      'python -m uvicorn app.main:app --host=0.0.0.0 --port=9000',
    );
  });

  it('rewrites a gunicorn bind on loopback or another port, keeping the rest', () => {
    expect(
      bindEntryPoint('gunicorn -w 2 -k uvicorn.workers.UvicornWorker -b 127.0.0.1:8000 app.main:app', 8000),
    ).toEqual({
      command: 'gunicorn -w 2 -k uvicorn.workers.UvicornWorker -b 0.0.0.0:8000 app.main:app',
      changes: ['-b 127.0.0.1:8000 → -b 0.0.0.0:8000'],
    });
    expect(bindEntryPoint('gunicorn --bind=:5000 app:app', 8000).command).toBe(
      'gunicorn --bind=0.0.0.0:8000 app:app',
    );
  });

  it('gives `fastapi run` the host and port it does not read from the environment', () => {
    expect(bindEntryPoint('fastapi run app/main.py', 8080)).toEqual({
      command: 'fastapi run --host 0.0.0.0 --port 8080 app/main.py',
      changes: ['fastapi run → fastapi run --host 0.0.0.0 --port 8080'],
    });
    expect(bindEntryPoint('fastapi run app/main.py --port 8080', 8080).command).toBe(
      'fastapi run --host 0.0.0.0 app/main.py --port 8080',
    );
  });

  it('changes only the commands that start a server', () => {
    expect(
      bindEntryPoint('python seed.py --host 127.0.0.1 && uvicorn app.main:app --host 127.0.0.1', 8000),
    ).toEqual({
      command: 'python seed.py --host 127.0.0.1 && uvicorn app.main:app --host 0.0.0.0',
      changes: ['--host 127.0.0.1 → --host 0.0.0.0'],
    });
  });
});

describe('listenEnvironment', () => {
  it('binds uvicorn, gunicorn and apps reading HOST/PORT to all interfaces at the port', () => {
    expect(listenEnvironment(8000, {})).toEqual({
      PORT: '8000',
      HOST: '0.0.0.0',
      UVICORN_HOST: '0.0.0.0',
      UVICORN_PORT: '8000',
      GUNICORN_CMD_ARGS: '--bind 0.0.0.0:8000',
    });
  });

  it('keeps the generation’s other gunicorn arguments and replaces its binds', () => {
    expect(
      listenEnvironment(8000, { GUNICORN_CMD_ARGS: '-b 127.0.0.1:8000 --workers 3 --bind=[::1]:8000' })
        .GUNICORN_CMD_ARGS,
    ).toBe('--workers 3 --bind 0.0.0.0:8000');
  });
});
