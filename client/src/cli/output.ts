import type { Writable } from 'node:stream';

/** What the CLI writes to, and whether people (colour, tables) or scripts (JSON) read it. */
export interface Output {
  readonly out: Writable & { isTTY?: boolean };
  readonly err: Writable & { isTTY?: boolean };
  readonly json: boolean;
  readonly color: Palette;
  readonly errColor: Palette;
}

export type Palette = Record<
  'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'cyan',
  (text: string) => string
>;

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  cyan: [36, 39],
} as const;

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function palette(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Palette {
  const enabled = stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  const style = ([open, close]: readonly [number, number]) =>
    enabled ? (text: string) => `\u001b[${open}m${text}\u001b[${close}m` : (text: string) => text;
  return {
    bold: style(codes.bold),
    dim: style(codes.dim),
    red: style(codes.red),
    green: style(codes.green),
    yellow: style(codes.yellow),
    blue: style(codes.blue),
    cyan: style(codes.cyan),
  };
}

// Colour codes take no room on screen.
// eslint-disable-next-line no-control-regex
const visibleLength = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;

/** Rows as aligned columns, the first row being the header. */
export function table(rows: readonly (readonly string[])[], color: Palette): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows
    .map((row, r) => {
      const line = row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
        )
        .join('  ');
      return r === 0 ? color.bold(line) : line;
    })
    .join('\n');
}

/** Label and value pairs, one a line. */
export function fields(pairs: readonly (readonly [string, string])[], color: Palette): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${color.dim(label.padEnd(width))}  ${value}`).join('\n');
}

export function statusColor(status: string, color: Palette): string {
  if (status === 'healthy') return color.green(status);
  if (status === 'failed' || status === 'unhealthy') return color.red(status);
  if (status === 'degraded' || status === 'stopping' || status === 'stopped') return color.yellow(status);
  return color.cyan(status);
}

export function levelColor(level: string, color: Palette): string {
  const padded = level.padEnd(5);
  if (level === 'ERROR') return color.red(padded);
  if (level === 'WARN') return color.yellow(padded);
  if (level === 'DEBUG') return color.dim(padded);
  return color.blue(padded);
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function duration(totalSeconds: number): string {
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

export function writeJson(output: Output, value: unknown): void {
  writeLine(output.out, JSON.stringify(value));
}
