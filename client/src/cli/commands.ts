import { writeFile } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import type { LaunchRequest, LogsQuery, PreviewClient, PreviewStatus } from '../client.js';
import type { WebSocketConstructor } from '../log-stream.js';
import { cursorBefore, type LogLevel, type LogLine, type LogSource } from '../messages.js';
import { CommandOutcome, exitCodes, UsageError } from './exit-codes.js';
import {
  duration,
  fields,
  levelColor,
  seconds,
  statusColor,
  table,
  writeJson,
  writeLine,
  type Output,
} from './output.js';

export interface CommandContext {
  readonly client: PreviewClient;
  readonly output: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly WebSocket: WebSocketConstructor | undefined;
  /** Aborted on Ctrl+C: long-running commands end cleanly. */
  readonly signal: AbortSignal;
}

type Values = Record<string, string | boolean | undefined>;

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Option lines of the command's help. */
  readonly help: readonly string[];
  /** How many positional arguments it takes. */
  readonly positionals: number;
  run(context: CommandContext, values: Values, positionals: readonly string[]): Promise<void>;
}

const terminalStatuses = new Set(['stopped', 'failed']);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake);
  });

function text(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function positiveNumber(values: Values, name: string): number | undefined {
  const value = text(values, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`--${name} must be a positive number.`);
  return number;
}

const logLevelNames: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
const logSourceNames: readonly LogSource[] = ['request', 'database', 'startup', 'error', 'system', 'build'];

function level(values: Values): LogLevel | undefined {
  const value = text(values, 'level')?.toUpperCase();
  if (value === undefined) return undefined;
  if (!(logLevelNames as readonly string[]).includes(value)) {
    throw new UsageError(`--level must be one of ${logLevelNames.join(', ')}.`);
  }
  return value as LogLevel;
}

function sources(values: Values): LogSource[] | undefined {
  const value = text(values, 'source');
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim());
  const unknown = list.filter((s) => !(logSourceNames as readonly string[]).includes(s));
  if (unknown.length > 0) throw new UsageError(`--source must list of ${logSourceNames.join(', ')}.`);
  return list as LogSource[];
}

/** `--since`: an ISO time, or how long ago (`30s`, `10m`, `2h`, `1d`). */
export function since(value: string | undefined, now = new Date()): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(relative[1]) * unit * 1000);
  }
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new UsageError(
      '--since must be an ISO time (2026-11-26T02:30:00Z) or a duration (30s, 10m, 2h, 1d).',
    );
  }
  return time;
}

function logLine(line: LogLine, output: Output): string {
  const { color } = output;
  const time = line.timestamp.slice(11, 23);
  return `${color.dim(time)} ${levelColor(line.level, color)} ${color.dim(line.source.padEnd(8))} ${line.message}`;
}

function statusSummary(status: PreviewStatus, output: Output): string {
  const { color } = output;
  const memory = status.resources.memory;
  const cpu = status.resources.cpu;
  return fields(
    [
      ['preview', status.previewInstanceId],
      [
        'status',
        statusColor(status.status, color) +
          (status.statusReason ? color.dim(` (${status.statusReason})`) : ''),
      ],
      ['health', statusColor(status.health.status, color)],
      ['uptime', status.uptime === null ? '-' : duration(status.uptime)],
      [
        'expires',
        status.expiresAt === null
          ? '-'
          : `${status.expiresAt}${status.timeRemaining === null ? '' : ` (in ${duration(status.timeRemaining)})`}`,
      ],
      [
        'memory',
        `${memory.used ?? '-'} of ${memory.allocated}${memory.percent === null ? '' : ` (${memory.percent}%)`}`,
      ],
      ['cpu', `${cpu.used ?? '-'} of ${cpu.allocated}${cpu.percent === null ? '' : ` (${cpu.percent}%)`}`],
      [
        'requests',
        `${status.performance.requestCount} (${status.performance.errorCount} errors, ${status.performance.errorRate}); p95 ${status.performance.p95ResponseTime ?? '-'}`,
      ],
      [
        'database',
        `${status.database.type} ${status.database.status}, migrations ${status.database.migrationStatus}`,
      ],
      ['url', status.baseUrl],
      ...(status.failure
        ? ([
            [
              'failure',
              color.red(`${status.failure.reason} at ${status.failure.step}: ${status.failure.message}`),
            ],
          ] as const)
        : []),
    ],
    color,
  );
}

/** Where the preview's live stream is: the status's `wsUrl` when it has one, else PREVIEW_WS_URL, else the local gateway's layout. */
function wsUrlOf(context: CommandContext, generationId: string, status: PreviewStatus): string {
  const fromStatus = (status as { wsUrl?: unknown }).wsUrl;
  if (typeof fromStatus === 'string') return fromStatus;
  const configured = context.env.PREVIEW_WS_URL;
  if (configured) {
    const url = new URL(configured);
    url.searchParams.set('generationId', generationId);
    return url.toString();
  }
  return `${context.client.baseUrl.replace(/^http/, 'ws')}/api/generations/${encodeURIComponent(generationId)}/preview/logs`;
}

const json = { type: 'boolean' } as const;
const jsonHelp = '--json               one JSON document (or one per line for streams) for scripts';

const list: Command = {
  name: 'list',
  usage: 'preview list [--json]',
  summary: 'your previews and remaining quota',
  options: { json },
  help: [jsonHelp],
  positionals: 0,
  async run({ client, output }) {
    const answer = await client.listPreviews();
    if (output.json) return writeJson(output, answer);
    const { color } = output;
    writeLine(
      output.out,
      table(
        [
          ['GENERATION', 'STATUS', 'TIER', 'CREATED', 'EXPIRES', 'PREVIEW'],
          ...answer.previews.map((p) => [
            p.generationId,
            statusColor(p.status, color),
            p.tier,
            p.createdAt,
            p.expiresAt ?? '-',
            p.previewInstanceId,
          ]),
        ],
        color,
      ),
    );
    const { quota } = answer;
    writeLine(
      output.out,
      color.dim(`\n${quota.used} of ${quota.limit} previews in use (${quota.tier}), ${quota.remaining} left`),
    );
  },
};

const launch: Command = {
  name: 'launch',
  usage:
    'preview launch <generationId> [--tier <tier>] [--database <type>] [--restart] [--timeout <s>] [--json]',
  summary: 'launch a preview, follow its launch step by step, then print its URLs',
  options: {
    tier: { type: 'string' },
    database: { type: 'string' },
    restart: { type: 'boolean' },
    timeout: { type: 'string' },
    json,
  },
  help: [
    '--tier <tier>        free, pro or enterprise (not above your plan)',
    '--database <type>    none, sqlite, postgresql or mongodb',
    '--restart            start it again even when it is live',
    '--timeout <s>        give up waiting for healthy after this many seconds (default 600)',
    jsonHelp,
  ],
  positionals: 1,
  async run({ client, output, signal }, values, [generationId = '']) {
    const body: LaunchRequest = {
      ...(text(values, 'tier')
        ? { resourceTier: text(values, 'tier') as LaunchRequest['resourceTier'] }
        : {}),
      ...(text(values, 'database')
        ? { databaseType: text(values, 'database') as LaunchRequest['databaseType'] }
        : {}),
      ...(values.restart ? { restart: true } : {}),
    };
    const timeoutMs = (positiveNumber(values, 'timeout') ?? 600) * 1000;
    const { color } = output;
    const launched = await client.launch(generationId, body);
    const { preview } = launched;
    if (!output.json) {
      writeLine(
        output.out,
        `${launched.created ? 'Launching' : 'Already live:'} ${color.bold(generationId)} ${color.dim(preview.previewInstanceId)}`,
      );
    }
    // The timeline's steps as they start and end.
    const reported = new Map<string, 'started' | 'ended'>();
    const deadline = Date.now() + timeoutMs;
    let status = await client.status(generationId);
    for (;;) {
      if (!output.json) {
        for (const step of status.timeline) {
          const seen = reported.get(step.step);
          if (step.endedAt !== undefined && seen !== 'ended') {
            const took = step.durationMs === undefined ? '' : color.dim(` ${seconds(step.durationMs)}`);
            writeLine(output.out, `  ${color.green('✓')} ${step.step}${took}`);
            reported.set(step.step, 'ended');
          } else if (step.endedAt === undefined && seen === undefined) {
            writeLine(output.out, `  ${color.cyan('…')} ${step.step}`);
            reported.set(step.step, 'started');
          }
        }
      }
      if (status.status === 'healthy' || terminalStatuses.has(status.status)) break;
      if (Date.now() > deadline || signal.aborted) break;
      await sleep(500, signal);
      status = await client.status(generationId);
    }
    if (output.json) writeJson(output, { created: launched.created, preview, status });
    if (status.status !== 'healthy') {
      if (!output.json) {
        const why = status.failure
          ? `${status.failure.reason} at ${status.failure.step}: ${status.failure.message}`
          : status.status === 'stopped' || status.status === 'failed'
            ? (status.statusReason ?? status.status)
            : `not healthy after ${timeoutMs / 1000}s (still ${status.status})`;
        writeLine(output.err, color.red(`Launch of ${generationId} did not end healthy: ${why}`));
        for (const line of status.failure?.lastLines ?? []) writeLine(output.err, color.dim(`  ${line}`));
      }
      throw new CommandOutcome(exitCodes.previewFailed, `the preview is ${status.status}`);
    }
    if (output.json) return;
    writeLine(output.out, `${color.green('healthy')} ${color.dim(preview.previewInstanceId)}`);
    writeLine(
      output.out,
      fields(
        [
          ['app', `${preview.baseUrl}/`],
          ['live stream', preview.wsUrl],
          ...(preview.previewToken
            ? ([['preview token', `${preview.previewToken} (shown once)`]] as const)
            : []),
          ['expires', status.expiresAt ?? '-'],
        ],
        color,
      ),
    );
  },
};

const statusCommand: Command = {
  name: 'status',
  usage: 'preview status <generationId> [--watch] [--interval <s>] [--json]',
  summary: 'status, health, resources and performance of a preview',
  options: { watch: { type: 'boolean' }, interval: { type: 'string' }, json },
  help: [
    '--watch              keep watching: print again on every change, until it stops or fails',
    '--interval <s>       how often to look when watching (default 2)',
    jsonHelp,
  ],
  positionals: 1,
  async run({ client, output, signal }, values, [generationId = '']) {
    const intervalMs = (positiveNumber(values, 'interval') ?? 2) * 1000;
    let previous = '';
    for (;;) {
      const status = await client.status(generationId);
      // Uptime and time remaining change every second; a change is anything else.
      const key = JSON.stringify({ ...status, uptime: null, timeRemaining: null });
      if (key !== previous) {
        if (output.json) writeJson(output, status);
        else writeLine(output.out, (previous === '' ? '' : '\n') + statusSummary(status, output));
        previous = key;
      }
      if (!values.watch || terminalStatuses.has(status.status) || signal.aborted) return;
      await sleep(intervalMs, signal);
      if (signal.aborted) return;
    }
  },
};

const logs: Command = {
  name: 'logs',
  usage:
    'preview logs <generationId> [--follow] [--level <level>] [--source <a,b>] [--since <time>] [--search <text>] [--limit <n>] [--json]',
  summary: 'the preview’s log lines; with --follow, live, resuming across dropped connections',
  options: {
    follow: { type: 'boolean', short: 'f' },
    level: { type: 'string' },
    source: { type: 'string' },
    since: { type: 'string' },
    search: { type: 'string' },
    limit: { type: 'string' },
    json,
  },
  help: [
    '-f, --follow         keep streaming new lines (uses a new preview token: earlier live connections close)',
    '--level <level>      DEBUG, INFO, WARN or ERROR: this level and above',
    '--source <a,b>       request, database, startup, error, system, build',
    '--since <time>       from this ISO time or this long ago (30s, 10m, 2h, 1d)',
    '--search <text>      lines containing the text',
    '--limit <n>          at most n lines of history',
    '--json               one JSON object per line, with its cursor',
  ],
  positionals: 1,
  async run(context, values, [generationId = '']) {
    const { client, output } = context;
    const filters = {
      ...(level(values) ? { level: level(values) } : {}),
      ...(sources(values) ? { source: sources(values) } : {}),
      ...(text(values, 'search') ? { search: text(values, 'search') } : {}),
    };
    const from = since(text(values, 'since'));
    const limit = positiveNumber(values, 'limit');
    const print = (line: LogLine) =>
      output.json ? writeJson(output, line) : writeLine(output.out, logLine(line, output));
    let last: string | undefined;
    if (from || !values.follow) {
      const query: LogsQuery = { ...filters, ...(from ? { start: from.toISOString() } : {}) };
      let count = 0;
      for await (const line of client.allLogs(generationId, query)) {
        if (limit !== undefined && count >= limit) break;
        print(line);
        last = line.cursor;
        count += 1;
      }
    }
    if (!values.follow) return;
    await follow(context, generationId, filters, last ?? (from ? cursorBefore(from) : undefined), print);
  },
};

async function follow(
  context: CommandContext,
  generationId: string,
  filters: { level?: LogLevel; source?: LogSource[]; search?: string },
  after: string | undefined,
  print: (line: LogLine) => void,
): Promise<void> {
  const { client, output, signal } = context;
  const status = await client.status(generationId);
  if (terminalStatuses.has(status.status)) {
    throw new CommandOutcome(exitCodes.previewFailed, `the preview is ${status.status}: nothing to follow`);
  }
  const stream = client.logStream({
    url: wsUrlOf(context, generationId, status),
    // The owner's way to a preview token: a new one (asked again if a recovery rotates it).
    previewToken: async () => (await client.rotateToken(generationId)).previewToken,
    filters,
    ...(after === undefined ? { buffer: 20 } : { after }),
    ...(context.WebSocket ? { WebSocket: context.WebSocket } : {}),
    reconnect: { maxAttempts: 30 },
  });
  const { errColor } = output;
  stream.on('log', print);
  stream.on('state', (state, detail) => {
    if (state === 'reconnecting') {
      writeLine(
        output.err,
        errColor.dim(`reconnecting in ${seconds(detail.delayMs ?? 0)} (${detail.reason ?? ''})`),
      );
    }
  });
  stream.on('status', (message) => {
    if (!output.json) writeLine(output.err, errColor.dim(`status: ${message.status}`));
  });
  stream.on('truncated', (message) => {
    writeLine(
      output.err,
      errColor.yellow(
        `${message.message} Read the lines in between with: preview logs ${generationId} --since <time>`,
      ),
    );
  });
  signal.addEventListener('abort', () => stream.close());
  const reason = await stream.ended;
  if (reason.startsWith('gave up')) throw new CommandOutcome(exitCodes.unavailable, reason);
}

const exportCommand: Command = {
  name: 'export',
  usage:
    'preview export <generationId> --format json|csv|gzip [--output <file>] [--level …] [--source …] [--since …] [--search …]',
  summary: 'the preview’s logs as a file',
  options: {
    format: { type: 'string', default: 'json' },
    output: { type: 'string', short: 'o' },
    level: { type: 'string' },
    source: { type: 'string' },
    since: { type: 'string' },
    search: { type: 'string' },
  },
  help: [
    '--format <format>    json (default), csv or gzip (gzipped JSON lines)',
    '-o, --output <file>  write here; by default stdout, or the service’s file name when stdout is a terminal',
    '--level, --source, --since, --search   as for logs',
  ],
  positionals: 1,
  async run({ client, output }, values, [generationId = '']) {
    const format = text(values, 'format');
    if (format !== 'json' && format !== 'csv' && format !== 'gzip') {
      throw new UsageError('--format must be json, csv or gzip.');
    }
    const from = since(text(values, 'since'));
    const file = await client.exportLogs(generationId, {
      format,
      ...(level(values) ? { level: level(values) } : {}),
      ...(sources(values) ? { source: sources(values) } : {}),
      ...(text(values, 'search') ? { search: text(values, 'search') } : {}),
      ...(from ? { start: from.toISOString() } : {}),
    });
    const target = text(values, 'output') ?? (output.out.isTTY ? file.filename : undefined);
    if (target === undefined) {
      await new Promise<void>((resolve, reject) =>
        output.out.write(file.body, (error) => (error ? reject(error) : resolve())),
      );
      return;
    }
    await writeFile(target, file.body);
    writeLine(output.err, `wrote ${file.body.byteLength} bytes to ${target}`);
  },
};

const extend: Command = {
  name: 'extend',
  usage: 'preview extend <generationId> [--duration <s>] [--json]',
  summary: 'more session time',
  options: { duration: { type: 'string' }, json },
  help: ['--duration <s>       seconds to add (default and most: the tier’s extension)', jsonHelp],
  positionals: 1,
  async run({ client, output }, values, [generationId = '']) {
    const answer = await client.extend(generationId, positiveNumber(values, 'duration'));
    if (output.json) return writeJson(output, answer);
    writeLine(
      output.out,
      `Extended until ${answer.newExpiresAt} (${answer.extensionsRemaining} of ${answer.maxExtensions} extensions left)`,
    );
  },
};

const deleteCommand: Command = {
  name: 'delete',
  usage: 'preview delete <generationId> [--json]',
  summary: 'stop the preview and remove everything it used',
  options: { json },
  help: [jsonHelp],
  positionals: 1,
  async run({ client, output }, _values, [generationId = '']) {
    const answer = await client.delete(generationId);
    if (output.json) return writeJson(output, answer);
    writeLine(
      output.out,
      `${statusColor(answer.status, output.color)} ${output.color.dim(answer.previewInstanceId)}`,
    );
  },
};

const token: Command = {
  name: 'token',
  usage: 'preview token <generationId> [--json]',
  summary: 'a new preview token (the previous one stops working at once)',
  options: { json },
  help: [jsonHelp],
  positionals: 1,
  async run({ client, output }, _values, [generationId = '']) {
    const answer = await client.rotateToken(generationId);
    if (output.json) return writeJson(output, answer);
    writeLine(output.out, answer.previewToken);
  },
};

const compare: Command = {
  name: 'compare',
  usage: 'preview compare <generationId> <otherGenerationId> [--json]',
  summary: 'endpoints, models and performance that changed between two running versions',
  options: { json },
  help: [jsonHelp],
  positionals: 2,
  async run({ client, output }, _values, [generationId = '', other = '']) {
    const answer = await client.compare(generationId, other);
    if (output.json) return writeJson(output, answer);
    const { color } = output;
    const { endpoints, models, performance } = answer.comparison;
    writeLine(
      output.out,
      `${color.bold(answer.base.generationId)} → ${color.bold(answer.other.generationId)}`,
    );
    const rows: string[][] = [['CHANGE', 'ENDPOINT', 'WHAT']];
    for (const e of endpoints.added) rows.push([color.green('added'), `${e.method} ${e.path}`, '']);
    for (const e of endpoints.removed) rows.push([color.red('removed'), `${e.method} ${e.path}`, '']);
    for (const e of endpoints.modified) {
      rows.push([color.yellow('modified'), `${e.method} ${e.path}`, [...e.changes, ...e.models].join(', ')]);
    }
    writeLine(output.out, rows.length > 1 ? table(rows, color) : 'No endpoint changed.');
    const modelChanges = [
      ...models.added.map((m) => `${color.green('+')} ${m}`),
      ...models.removed.map((m) => `${color.red('-')} ${m}`),
      ...models.modified.map((m) => `${color.yellow('~')} ${m.name}`),
    ];
    if (modelChanges.length > 0) writeLine(output.out, `models: ${modelChanges.join('  ')}`);
    writeLine(
      output.out,
      performance.available
        ? `performance: average ${performance.avgResponseTimeChange}, p95 ${performance.p95ResponseTimeChange}, errors ${performance.errorRateChange}`
        : color.dim(`performance: ${performance.reason}`),
    );
  },
};

const events: Command = {
  name: 'events',
  usage: 'preview events <generationId> [--limit <n>] [--json]',
  summary: 'the preview’s audit trail',
  options: { limit: { type: 'string' }, json },
  help: ['--limit <n>          at most n events (default 50, most 100)', jsonHelp],
  positionals: 1,
  async run({ client, output }, values, [generationId = '']) {
    const limit = positiveNumber(values, 'limit');
    const answer = await client.events(generationId, limit === undefined ? {} : { limit });
    if (output.json) return writeJson(output, answer);
    const { color } = output;
    writeLine(
      output.out,
      table(
        [
          ['TIME', 'EVENT', 'BY', 'REASON'],
          ...answer.events.map((e) => [e.timestamp, e.type, `${e.actor.type}:${e.actor.id}`, e.reason ?? '']),
        ],
        color,
      ),
    );
  },
};

export const commands: readonly Command[] = [
  list,
  launch,
  statusCommand,
  logs,
  exportCommand,
  extend,
  deleteCommand,
  token,
  compare,
  events,
];
