import { logLevels, logSources } from './api-schemas.js';
import { parseJson } from './json-input.js';
import { logCursor } from './log-cursor.js';
import { redactSecrets, redactValues } from './log-redaction.js';

export type LogLevel = (typeof logLevels)[number];
export type LogSource = (typeof logSources)[number];

/** One line of a preview's output, as clients see it (WebSocket, queries, exports). */
export interface LogEntry {
  readonly timestamp: string;
  readonly level: LogLevel;
  readonly source: LogSource;
  readonly message: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Where this line sits in the preview's log: resume after it with `after=<cursor>`. */
  readonly cursor: string;
}

/** A line as the log platform holds it: CloudWatch's log event, or the local store's stand-in. */
export interface RawLogEvent {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

/** Where a line came from: its container (`build` for image builds) and the secrets it may reveal. */
export interface LineOrigin {
  readonly container: string;
  readonly secrets: readonly string[];
}

const levelAliases: Readonly<Record<string, LogLevel>> = {
  TRACE: 'DEBUG',
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  NOTICE: 'INFO',
  LOG: 'INFO',
  WARN: 'WARN',
  WARNING: 'WARN',
  ERROR: 'ERROR',
  ERR: 'ERROR',
  CRITICAL: 'ERROR',
  FATAL: 'ERROR',
  PANIC: 'ERROR',
};

/** `INFO:     Started server process [1]` (uvicorn, Python logging), `[INFO] …`, `INFO  [alembic…] …`. */
const levelPrefix = /^\s*\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)\]?:?\s+/i;
/** PostgreSQL: `2025-01-01 12:00:00.000 UTC [1] LOG:  database system is ready to accept connections`. */
const postgresLevel = /\]\s+(LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|DEBUG\d?|INFO):\s/;
/** uvicorn's access log: `INFO:     172.17.0.1:51234 - "GET /health HTTP/1.1" 200 OK`. */
const accessLine = /^(?:INFO:\s+)?(\S+):(\d+) - "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/;
const tracebackLine =
  /^(Traceback \(most recent call last\)|\s+File ".+", line \d+|[\w.]+(Error|Exception): )/;
const startupWords =
  /\b(started server process|waiting for application startup|application startup complete|uvicorn running on|listening on|shutting down|finished server process|booting|starting)\b/i;
const databaseWords =
  /\b(postgres(ql)?|psycopg2?|sqlalchemy|alembic|migrations?|database|sql|mongo(db)?|sqlite)\b/i;
const errorWords = /\b(error|exception|fatal|failed|failure|panic)\b/i;
const warnWords = /\b(warn|warning|deprecated)\b/i;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function levelOf(value: unknown): LogLevel | undefined {
  return typeof value === 'string' ? levelAliases[value.trim().toUpperCase()] : undefined;
}

function sourceOf(value: unknown): LogSource | undefined {
  return typeof value === 'string' && (logSources as readonly string[]).includes(value)
    ? (value as LogSource)
    : undefined;
}

function inferredLevel(text: string): LogLevel {
  if (tracebackLine.test(text) || errorWords.test(text)) return 'ERROR';
  return warnWords.test(text) ? 'WARN' : 'INFO';
}

/** The source of a line that does not name one: by container first, then by what it says. */
function classify(text: string, level: LogLevel, container: string): LogSource {
  if (container === 'build') return 'build';
  if (container === 'database') return 'database';
  if (tracebackLine.test(text)) return 'error';
  if (container === 'migrate' || container === 'seed' || databaseWords.test(text)) return 'database';
  if (startupWords.test(text)) return 'startup';
  return level === 'ERROR' ? 'error' : 'system';
}

type Parsed = Omit<LogEntry, 'timestamp' | 'cursor'>;

/** The app's structured lines: `{"level", "source", "message", "metadata"}` (or `msg`, `levelname`). */
function fromJson(json: Record<string, unknown>, container: string): Parsed {
  const {
    level,
    levelname,
    severity,
    source,
    message,
    msg,
    metadata,
    timestamp: _t,
    time: _time,
    ...rest
  } = json;
  const text = [message, msg].find((m): m is string => typeof m === 'string') ?? JSON.stringify(json);
  const parsedLevel = levelOf(level) ?? levelOf(levelname) ?? levelOf(severity) ?? inferredLevel(text);
  return {
    level: parsedLevel,
    source: sourceOf(source) ?? classify(text, parsedLevel, container),
    message: text,
    metadata: isObject(metadata) ? { ...rest, ...metadata } : rest,
  };
}

function fromText(text: string, container: string): Parsed {
  const access = accessLine.exec(text);
  if (access) {
    const statusCode = Number(access[5]);
    return {
      level: statusCode >= 500 ? 'ERROR' : statusCode >= 400 ? 'WARN' : 'INFO',
      source: 'request',
      message: `${access[3]} ${access[4]} ${statusCode}`,
      metadata: { method: access[3], path: access[4], statusCode, client: `${access[1]}:${access[2]}` },
    };
  }
  const prefix = levelPrefix.exec(text);
  const message = prefix ? text.slice(prefix[0].length) : text;
  const level =
    levelOf(prefix?.[1]) ?? levelOf(postgresLevel.exec(text)?.[1]?.replace(/\d$/, '')) ?? inferredLevel(text);
  return { level, source: classify(message, level, container), message, metadata: {} };
}

/**
 * A raw line as a log entry: secrets redacted first (in the text, then by key in the parsed
 * metadata), JSON lines parsed, other lines classified. `undefined` for blank lines.
 */
export function logEntry(event: RawLogEvent, origin: LineOrigin): LogEntry | undefined {
  const text = redactSecrets(event.message.replace(/\r?\n$/, ''), origin.secrets);
  if (text.trim() === '') return undefined;
  // A line that is not JSON, or nests too deep to walk, is kept as text.
  const parsedJson = text.trimStart().startsWith('{') ? parseJson(text) : undefined;
  const json = parsedJson?.ok ? parsedJson.value : undefined;
  const parsed = isObject(json) ? fromJson(json, origin.container) : fromText(text, origin.container);
  return {
    timestamp: new Date(event.timestamp).toISOString(),
    ...parsed,
    metadata: redactValues(parsed.metadata, origin.secrets),
    cursor: logCursor(event.timestamp, event.id),
  };
}

export function levelRank(level: LogLevel): number {
  return logLevels.indexOf(level);
}
