import { parseArgs } from 'node:util';
import { PreviewClient } from '../client.js';
import { PreviewApiError } from '../errors.js';
import type { WebSocketConstructor } from '../log-stream.js';
import { commands, type Command } from './commands.js';
import { exitCodeOf, exitCodes, UsageError, type ExitCode } from './exit-codes.js';
import { palette, writeLine, type Output } from './output.js';

const defaultUrl = 'http://127.0.0.1:3000';

const globalOptions = {
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const globalHelp = [
  `--url <url>          the service (default $PREVIEW_API_URL or ${defaultUrl})`,
  '--token <jwt>        bearer token (default $PREVIEW_API_TOKEN; locally: npm run -s token)',
  '-h, --help           this help',
];

const exitCodeHelp = [
  'Exit codes:',
  '  0  done',
  '  1  failed for another reason (the service’s own fault, an unreadable answer)',
  '  2  wrong command, option or argument (or the service answered 400)',
  '  3  no valid bearer token, or not yours to use (401, 403)',
  '  4  no such generation or preview (404)',
  '  5  refused in the preview’s current state: quota, not running, no extensions left (409, 413)',
  '  6  the preview failed, stopped, or was not healthy in time',
  '  7  the service cannot be reached or asks to retry later (429, 503)',
];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: preview <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command:',
    ...globalHelp.map((line) => `  ${line}`),
    '',
    ...exitCodeHelp,
    '',
    'Run `preview <command> --help` for a command’s options.',
  ].join('\n');
}

/** What a usage mistake prints after the mistake itself. */
function shortUsage(command: Command): string {
  return `Usage: ${command.usage}\nRun \`preview ${command.name} --help\` for its options.`;
}

function commandUsage(command: Command): string {
  return [
    `Usage: ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...[...command.help, ...globalHelp].map((line) => `  ${line}`),
    '',
    ...exitCodeHelp,
  ].join('\n');
}

export interface CliEnvironment {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly out: Output['out'];
  readonly err: Output['err'];
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly signal: AbortSignal;
}

/** Runs one command line; resolves with its exit code. */
export async function runCli(cli: CliEnvironment): Promise<ExitCode> {
  const [name, ...rest] = cli.argv;
  const errColor = palette(cli.err, cli.env);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    writeLine(name === undefined ? cli.err : cli.out, usage());
    return name === undefined ? exitCodes.usage : exitCodes.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    writeLine(cli.err, `${errColor.red(`Unknown command: ${name}`)}\n\n${usage()}`);
    return exitCodes.usage;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: { ...globalOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    writeLine(cli.err, `${errColor.red((error as Error).message)}\n${shortUsage(command)}`);
    return exitCodes.usage;
  }
  if (values.help) {
    writeLine(cli.out, commandUsage(command));
    return exitCodes.ok;
  }
  if (positionals.length !== command.positionals) {
    writeLine(cli.err, `${errColor.red('Wrong number of arguments.')}\n${shortUsage(command)}`);
    return exitCodes.usage;
  }
  const token = (typeof values.token === 'string' ? values.token : undefined) ?? cli.env.PREVIEW_API_TOKEN;
  if (!token) {
    writeLine(
      cli.err,
      errColor.red(
        'No bearer token: set PREVIEW_API_TOKEN or pass --token (locally: export PREVIEW_API_TOKEN=$(npm run -s token)).',
      ),
    );
    return exitCodes.unauthorized;
  }
  const baseUrl =
    (typeof values.url === 'string' ? values.url : undefined) ?? cli.env.PREVIEW_API_URL ?? defaultUrl;
  const output: Output = {
    out: cli.out,
    err: cli.err,
    json: values.json === true,
    color: palette(cli.out, cli.env),
    errColor,
  };
  try {
    await command.run(
      {
        client: new PreviewClient({ baseUrl, token }),
        output,
        env: cli.env,
        WebSocket: cli.WebSocket,
        signal: cli.signal,
      },
      values,
      positionals,
    );
    return exitCodes.ok;
  } catch (error) {
    const code = exitCodeOf(error);
    if (error instanceof UsageError) {
      writeLine(cli.err, `${errColor.red(error.message)}\n${shortUsage(command)}`);
    } else if (error instanceof PreviewApiError) {
      writeLine(cli.err, errColor.red(`${error.code}: ${error.message}`));
      if (output.json)
        writeLine(
          cli.err,
          JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } }),
        );
    } else if (code === exitCodes.failure) {
      writeLine(
        cli.err,
        errColor.red(`Failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      );
    } else {
      writeLine(cli.err, errColor.red(error instanceof Error ? error.message : String(error)));
    }
    return code;
  }
}
