/**
 * Making a generated app listen where the service expects it: on every interface of its task, at
 * the generation's `port`. Servers that read their address from the environment get it there; the
 * command line is changed only where it says otherwise, since a server's own flags win over its
 * environment.
 */

/** All interfaces: the task's address (published port locally, private IP in AWS) must reach it. */
export const allInterfaces = '0.0.0.0';

/** The entry point as the service runs it, and what was changed in it (empty when nothing was). */
export interface BoundEntryPoint {
  readonly command: string;
  readonly changes: readonly string[];
}

/** Words that start a server whose address flags the service knows. */
const serverWord = /\b(uvicorn|gunicorn|hypercorn|fastapi|daphne)\b/;
/** Shell separators: flags of one command never leak into the next. */
const commandSeparator = /(\s*(?:&&|\|\||;|\|)\s*)/;
const loopbackHost = /^(?:127(?:\.\d{1,3}){3}|localhost|\[?::1\]?)$/i;

export function isLoopbackHost(host: string): boolean {
  return loopbackHost.test(host);
}

/**
 * The environment that tells servers where to listen: `PORT` and `HOST` (many apps read them),
 * uvicorn's `UVICORN_HOST`/`UVICORN_PORT`, and gunicorn's `GUNICORN_CMD_ARGS` with `--bind`
 * (any `--bind` the generation put there is replaced; the rest of its arguments are kept).
 * Every interface unless `host` says otherwise (local processes listen on loopback).
 */
export function listenEnvironment(
  port: number,
  generationEnv: Readonly<Record<string, string>>,
  host: string = allInterfaces,
): Record<string, string> {
  const gunicornArgs = (generationEnv.GUNICORN_CMD_ARGS ?? '')
    .replace(/(?:^|\s)(?:-b|--bind)(?:=|\s+)\S+/g, '')
    .trim();
  return {
    PORT: String(port),
    HOST: host,
    UVICORN_HOST: host,
    UVICORN_PORT: String(port),
    GUNICORN_CMD_ARGS: [gunicornArgs, `--bind ${host}:${port}`].filter(Boolean).join(' '),
  };
}

/**
 * The entry point with the flags that would keep the app off the task's interface or off its
 * port rewritten, in each command that starts a known server:
 * - `--host 127.0.0.1` (or `localhost`, `::1`) becomes `--host 0.0.0.0`;
 * - `--port N` becomes the generation's port when N differs;
 * - gunicorn's, hypercorn's and daphne's `-b`/`--bind HOST:PORT` becomes `0.0.0.0:PORT`;
 * - `fastapi run|dev`, which read no environment, get `--host 0.0.0.0 --port PORT` when they lack them.
 * The generation's `port` is the truth: the service publishes and probes that port.
 */
export function bindEntryPoint(entryPoint: string, port: number): BoundEntryPoint {
  const changes: string[] = [];
  const parts = entryPoint.split(commandSeparator);
  const rewritten = parts.map((part, index) => {
    // Odd indexes are the separators themselves.
    if (index % 2 === 1 || !serverWord.test(part)) return part;
    return bindCommand(part, port, changes);
  });
  return { command: rewritten.join(''), changes };
}

function bindCommand(command: string, port: number, changes: string[]): string {
  const note = (from: string, to: string) => {
    if (from !== to) changes.push(`${from} → ${to}`);
    return to;
  };
  let result = command
    .replace(/(--host)(=|\s+)(\S+)/g, (match, flag: string, separator: string, host: string) =>
      isLoopbackHost(host) ? note(match, `${flag}${separator}${allInterfaces}`) : match,
    )
    .replace(/(--port)(=|\s+)(\d+)\b/g, (match, flag: string, separator: string, value: string) =>
      Number(value) === port ? match : note(match, `${flag}${separator}${port}`),
    )
    .replace(
      /(^|\s)(-b|--bind)(=|\s+)(\[[^\]]+\]|[^\s:]*):(\d+)\b/g,
      (match, lead: string, flag: string, separator: string, host: string, value: string) =>
        isLoopbackHost(host) || Number(value) !== port
          ? `${lead}${note(match.trimStart(), `${flag}${separator}${allInterfaces}:${port}`)}`
          : match,
    );
  const fastapi = /\bfastapi\s+(run|dev)\b/.exec(result);
  if (fastapi) {
    const missing = [
      ...(/--host\b/.test(result) ? [] : [`--host ${allInterfaces}`]),
      ...(/--port\b/.test(result) ? [] : [`--port ${port}`]),
    ];
    if (missing.length > 0) {
      const at = fastapi.index + fastapi[0].length;
      const added = missing.join(' ');
      changes.push(`${fastapi[0]} → ${fastapi[0]} ${added}`);
      result = `${result.slice(0, at)} ${added}${result.slice(at)}`;
    }
  }
  return result;
}
