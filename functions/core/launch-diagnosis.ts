import { isLoopbackHost } from './app-binding.js';
import { redactSecrets } from './log-redaction.js';
import type { PreviewFailure } from './preview.js';
import type { ContainerName } from './task-definition.js';
import type { Listener, TaskFailure } from './task-runner.js';

/**
 * Why a launch failed, in words that name the specific thing: the package pip could not install,
 * the module and line that did not import, the address the app listens on, the command that
 * failed. Pure functions over what the runtime reports (output lines, listening sockets, answers).
 */

/**
 * Reasons a launch fails that come from the generated app (its Dockerfile and dependencies, its code,
 * its port, its migrations and seed data, its health endpoint, its memory).
 */
export const appLaunchFailureReasons = [
  'build_error',
  'dependency_install',
  'import_error',
  'port_mismatch',
  'loopback_only',
  'migration_failed',
  'seed_failed',
  'health_not_found',
  'out_of_memory',
  'exit_nonzero',
  'health_check',
  'restart_limit',
] as const;

/** `failure.reason` of a failed launch. `internal` is the service's own fault, and only that. */
export const launchFailureReasons = [
  ...appLaunchFailureReasons,
  'timeout',
  'runtime_lost',
  'internal',
] as const;
export type LaunchFailureReason = (typeof launchFailureReasons)[number];

/** What the diagnosis needs to know of the task beyond the runtime's report. */
export interface DiagnosisContext {
  /** The port the service expects the app on (generation.json `port`). */
  readonly port: number;
  readonly migrationCommand?: string;
  readonly seedCommand?: string;
  /** Hard memory limit of each container, MiB. */
  readonly memoryMb: Partial<Record<ContainerName, number>>;
  /** Ports in the task that are not the app's (the database sidecar's). */
  readonly ignoredPorts: readonly number[];
  /** The task's own secrets (database password): never shown, wherever they appear. */
  readonly secrets: readonly string[];
}

const lastLinesShown = 20;
const maxMessageLength = 500;
/** Docker's embedded DNS resolver listens in every container of a user-defined network. */
const dockerResolver = '127.0.0.11';

/** Redacted last lines, as a failure shows them. */
export function shownLines(lines: readonly string[], secrets: readonly string[]): string[] {
  return lines.slice(-lastLinesShown).map((line) => redactSecrets(line, secrets));
}

/** One line, redacted and bounded: a message is read in a list, not scrolled. */
function oneLine(text: string, secrets: readonly string[]): string {
  const flat = redactSecrets(text.replace(/\s+/g, ' ').trim(), secrets);
  return flat.length > maxMessageLength ? `${flat.slice(0, maxMessageLength - 1)}…` : flat;
}

/** Listening sockets from the text of /proc/net/tcp and /proc/net/tcp6 (either, or both concatenated). */
export function parseSocketTable(text: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl, local_address, rem_address, st: 0A is LISTEN.
    const match = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(fields[1] ?? '');
    if (!match || fields[3] !== '0A') continue;
    const address = decodeAddress(match[1] as string);
    const port = parseInt(match[2] as string, 16);
    if (!listeners.some((l) => l.address === address && l.port === port)) listeners.push({ address, port });
  }
  return listeners;
}

/** The kernel prints addresses as 32-bit words in host (little-endian) order. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) as string[];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) as string[]).reverse().map((b) => parseInt(b, 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return compressIpv6(groups);
}

/** RFC 5952: the longest run of zero groups (two or more) becomes `::`. */
function compressIpv6(groups: readonly string[]): string {
  let best = { start: -1, length: 0 };
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  if (best.length < 2) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

function isLoopback(address: string): boolean {
  return isLoopbackHost(address) || address.startsWith('127.') || address === '::ffff:127.0.0.1';
}

/** The packages pip said it could not find, from the build's output. */
export function uninstallablePackages(lines: readonly string[]): string[] {
  const packages = new Set<string>();
  for (const line of lines) {
    const found =
      /No matching distribution found for ([^\s;]+)/.exec(line) ??
      /Could not find a version that satisfies the requirement ([^\s;]+)/.exec(line);
    if (found?.[1]) packages.add(found[1]);
  }
  return [...packages];
}

/** The error a Python program died of at start, from its traceback (or uvicorn's loader message). */
export interface PythonStartError {
  /** `ModuleNotFoundError: No module named 'x'`. */
  readonly error: string;
  readonly exception: string;
  readonly module?: string;
  readonly file?: string;
  readonly line?: number;
}

const importExceptions = new Set([
  'ModuleNotFoundError',
  'ImportError',
  'SyntaxError',
  'IndentationError',
  'TabError',
]);
/** Frames of the interpreter and installed packages: the app's own frame is the one to name. */
const libraryFrame = /(?:site-packages|dist-packages|\/usr\/lib\/python|\/usr\/local\/lib\/python|<frozen )/;

export function pythonStartError(lines: readonly string[]): PythonStartError | undefined {
  const loader = lines
    .map((line) => /Error loading ASGI app\. (.+?)\.?$/.exec(line)?.[1])
    .filter((text): text is string => text !== undefined)
    .pop();
  let exceptionAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (
      /^([A-Za-z_][\w.]*(?:Error|Exception|Exit)):\s/.test(lines[i] as string) ||
      /^[A-Za-z_][\w.]*Error$/.test(lines[i] as string)
    ) {
      exceptionAt = i;
      break;
    }
  }
  if (exceptionAt === -1) {
    if (!loader) return undefined;
    const module = /module "([^"]+)"/.exec(loader)?.[1];
    return { error: loader, exception: 'ImportError', ...(module ? { module } : {}) };
  }
  const error = (lines[exceptionAt] as string).trim();
  const exception = (/^([\w.]+)/.exec(error)?.[1] ?? '').split('.').pop() as string;
  const frames = lines
    .slice(0, exceptionAt)
    .map((line) => /File "([^"]+)", line (\d+)/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ file: match[1] as string, line: Number(match[2]) }));
  const frame = [...frames].reverse().find((f) => !libraryFrame.test(f.file)) ?? frames[frames.length - 1];
  const module =
    /No module named '([^']+)'/.exec(error)?.[1] ??
    /cannot import name '[^']+' from '([^']+)'/.exec(error)?.[1] ??
    (frame && importExceptions.has(exception) ? moduleOfFile(frame.file) : undefined);
  return { error, exception, ...(module ? { module } : {}), ...(frame ?? {}) };
}

/** `/app/app/main.py` → `app.main`, relative to the usual working directories of an image. */
function moduleOfFile(file: string): string | undefined {
  if (!file.endsWith('.py')) return undefined;
  const relative = file.replace(/^\/(?:app|src|code|usr\/src\/app)\//, '').replace(/\.py$/, '');
  return relative
    .replace(/\/__init__$/, '')
    .split('/')
    .join('.');
}

/**
 * The line that best says what went wrong: the last exception line (`sqlalchemy.exc.…Error: …`),
 * else the last line saying error or fatal, else the last line.
 */
export function lastErrorLine(lines: readonly string[]): string | undefined {
  const nonEmpty = lines.map((l) => l.trim()).filter(Boolean);
  const last = (pattern: RegExp) => [...nonEmpty].reverse().find((line) => pattern.test(line));
  return (
    last(/^[A-Za-z_][\w.]*(?:Error|Exception):/) ??
    last(/^(?:ERROR|FATAL|Error|error)\b|\b(?:ERROR|FATAL):/) ??
    nonEmpty[nonEmpty.length - 1]
  );
}

function withDetail(sentence: string, detail: string | undefined): string {
  return detail ? `${sentence}: ${detail}` : `${sentence}.`;
}

/** A failure the runtime reported (a build, a container that exited, a check that never passed), diagnosed. */
export function diagnoseTaskFailure(failure: TaskFailure, context: DiagnosisContext): PreviewFailure {
  const { step, exitCode } = failure;
  const lines = failure.lastLines;
  const base = {
    step,
    ...(exitCode === undefined ? {} : { exitCode }),
    lastLines: shownLines(lines, context.secrets),
  };
  const make = (reason: LaunchFailureReason, message: string): PreviewFailure => ({
    ...base,
    reason,
    message: oneLine(message, context.secrets),
  });
  const code = exitCode === undefined ? '' : ` with exit code ${exitCode}`;

  if (failure.reason === 'out_of_memory') {
    const limit = context.memoryMb[step === 'build' ? 'app' : step];
    return make(
      'out_of_memory',
      `The ${step} container ran out of memory${limit === undefined ? '' : ` at its ${limit} MB limit`}` +
        (step === 'app' ? ': use less memory at start, or a tier with more.' : '.'),
    );
  }
  if (step === 'build') {
    const packages = uninstallablePackages(lines);
    if (packages.length > 0) {
      return make(
        'dependency_install',
        `pip could not install ${packages.join(', ')}: no matching distribution was found. ` +
          `Change or remove ${packages.length === 1 ? 'it' : 'them'} in the requirements.`,
      );
    }
    return make('build_error', withDetail(`The image build failed${code}`, lastErrorLine(lines)));
  }
  if (failure.reason === 'exit_nonzero' && (step === 'migrate' || step === 'seed')) {
    const command = step === 'migrate' ? context.migrationCommand : context.seedCommand;
    return make(
      step === 'migrate' ? 'migration_failed' : 'seed_failed',
      withDetail(
        `The ${step === 'migrate' ? 'migration' : 'seed'} command${command ? ` \`${command}\`` : ''} failed${code}`,
        lastErrorLine(lines),
      ),
    );
  }
  if (failure.reason === 'exit_nonzero' && step === 'app') {
    const started = pythonStartError(lines);
    if (started && importExceptions.has(started.exception)) {
      const where = [
        started.module ? `module ${started.module}` : undefined,
        started.file ? `${started.file} line ${started.line}` : undefined,
      ].filter(Boolean);
      return make(
        'import_error',
        `The app could not start: ${started.error}${where.length > 0 ? ` (${where.join(', ')})` : ''}.`,
      );
    }
    return make(
      'exit_nonzero',
      withDetail(`The app exited${code} at start`, started?.error ?? lastErrorLine(lines)),
    );
  }
  if (failure.reason === 'health_check' && step === 'app' && failure.listeners) {
    const diagnosis = listenerDiagnosis(failure.listeners, context);
    if (diagnosis) return { ...base, ...diagnosis, message: oneLine(diagnosis.message, context.secrets) };
    return make(
      'health_check',
      `The app did not answer HTTP on port ${context.port} inside its task: it listens on no TCP port.`,
    );
  }
  if (failure.reason === 'health_check') {
    return make('health_check', `The ${step} container never passed its health check.`);
  }
  if (failure.reason === 'timeout') {
    return make('timeout', `The ${step} step did not finish in time.`);
  }
  return make(failure.reason, withDetail(`The ${step} container exited${code}`, lastErrorLine(lines)));
}

/**
 * Why the app cannot be reached from outside its task, from what it listens on: loopback only
 * (`loopback_only`), another port (`port_mismatch`); undefined when it listens where it should.
 */
export function listenerDiagnosis(
  listeners: readonly Listener[],
  context: Pick<DiagnosisContext, 'port' | 'ignoredPorts'>,
): { reason: LaunchFailureReason; message: string } | undefined {
  const app = listeners.filter((l) => l.address !== dockerResolver && !context.ignoredPorts.includes(l.port));
  const onPort = app.filter((l) => l.port === context.port);
  if (onPort.some((l) => !isLoopback(l.address))) return undefined;
  if (onPort.length > 0) {
    const where = onPort.map(formatListener).join(' and ');
    return {
      reason: 'loopback_only',
      message:
        `The app listens on ${where} only, which nothing outside its container can reach: ` +
        `bind it to 0.0.0.0, e.g. uvicorn.run(app, host="0.0.0.0", port=${context.port}) or --host 0.0.0.0.`,
    };
  }
  const other = [...new Set(app.map((l) => l.port))].sort((a, b) => a - b);
  if (other.length === 0) return undefined;
  const where = app.map(formatListener).join(', ');
  return {
    reason: 'port_mismatch',
    message:
      `The app listens on port ${other.join(', ')} (${where}), not on port ${context.port} that generation.json names: ` +
      `set "port": ${other[0]} in generation.json, or make the app listen on $PORT.`,
  };
}

function formatListener(listener: Listener): string {
  return listener.address.includes(':')
    ? `[${listener.address}]:${listener.port}`
    : `${listener.address}:${listener.port}`;
}

/**
 * The app answered its health check inside the task but not through the path the proxy uses.
 * With the task's listening sockets the cause is named; without them (a runtime that cannot read
 * them) the failure says where it was asked and what came back.
 */
export function unreachableFailure(input: {
  readonly listeners: readonly Listener[] | undefined;
  readonly context: DiagnosisContext;
  readonly healthPath: string;
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly waitedSeconds: number;
  /** The last answer or error seen: `answered 500`, `connection refused`. */
  readonly lastOutcome: string;
  readonly lastLines: readonly string[];
}): PreviewFailure {
  const { context } = input;
  const diagnosis = input.listeners && listenerDiagnosis(input.listeners, context);
  const message =
    diagnosis?.message ??
    `The app answers inside its task, but GET ${input.healthPath} at ${input.endpoint.host}:${input.endpoint.port} ` +
      `did not answer 2xx within ${input.waitedSeconds} s (${input.lastOutcome}).`;
  return {
    step: 'app',
    reason: diagnosis?.reason ?? 'health_check',
    message: oneLine(message, context.secrets),
    lastLines: shownLines(input.lastLines, context.secrets),
  };
}

/** The health endpoint answered 404: name a few routes the app does have, from its OpenAPI document. */
export function healthNotFoundFailure(input: {
  readonly healthPath: string;
  readonly routes: readonly string[];
  readonly lastLines: readonly string[];
  readonly secrets: readonly string[];
}): PreviewFailure {
  const shown = input.routes.slice(0, 5);
  const routes =
    shown.length > 0
      ? `; its routes include ${shown.join(', ')}${input.routes.length > shown.length ? ` and ${input.routes.length - shown.length} more` : ''}`
      : '; the app serves no OpenAPI document that lists its routes';
  return {
    step: 'app',
    reason: 'health_not_found',
    message: oneLine(
      `GET ${input.healthPath} answered 404${routes}. Set healthCheckEndpoint in generation.json to a route that answers 2xx, or add GET ${input.healthPath}.`,
      input.secrets,
    ),
    lastLines: shownLines(input.lastLines, input.secrets),
  };
}
