import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import type { BenchOptions } from './options.js';
import { duration, printTable, type Report } from './report.js';

/** One figure as kept: a percentile row's quantiles in ms, or a value row's text. */
export interface KeptFigure {
  readonly name: string;
  readonly count?: number;
  readonly p50Ms?: number;
  readonly p95Ms?: number;
  readonly p99Ms?: number;
  readonly value?: string;
  readonly target: string;
  /** `null`: the figure has no target. */
  readonly met: boolean | null;
}

/** What one bench run measured, and on what: kept beside the printed table. */
export interface BenchResults {
  readonly date: string;
  readonly gitCommit: string;
  readonly node: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryMb: number;
    /** 1, 5 and 15 minute load averages when the run started and when it ended. */
    readonly loadAtStart: readonly number[];
    readonly loadAtEnd: readonly number[];
  };
  readonly options: {
    readonly only: readonly string[];
    readonly runs: number;
    readonly scale: number;
    readonly tier: string;
  };
  readonly figures: readonly KeptFigure[];
  readonly notes: readonly string[];
  readonly failures: readonly string[];
}

const round = (ms: number) => (Number.isFinite(ms) ? Math.round(ms * 100) / 100 : undefined);
/** The machine's 1, 5 and 15 minute load averages now. */
export const loadNow = (): number[] => loadavg().map((load) => Math.round(load * 100) / 100);

/** The commit measured; `-dirty` when the work tree had changes not committed. */
function gitCommit(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

export function benchResults(
  report: Report,
  options: BenchOptions,
  loadAtStart: readonly number[],
  failures: readonly string[],
): BenchResults {
  return {
    date: new Date().toISOString(),
    gitCommit: gitCommit(),
    node: process.version,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryMb: Math.round(totalmem() / 1024 ** 2),
      loadAtStart,
      loadAtEnd: loadNow(),
    },
    options: { only: [...options.only], runs: options.runs, scale: options.scale, tier: options.tier },
    figures: [
      ...report.percentiles.map((row) => ({
        name: row.name,
        count: row.summary.count,
        p50Ms: round(row.summary.p50),
        p95Ms: round(row.summary.p95),
        ...(row.showP99 ? { p99Ms: round(row.summary.p99) } : {}),
        target: row.target,
        met: row.met ?? null,
      })),
      ...report.values.map((row) => ({
        name: row.name,
        value: row.value,
        target: row.target,
        met: row.met ?? null,
      })),
    ],
    notes: report.notes,
    failures,
  };
}

/** The results a run kept before, or undefined when there are none (or they cannot be read). */
export function readResults(path: string): BenchResults | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  } catch {
    return undefined;
  }
}

export function writeResults(path: string, results: BenchResults): void {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

/** The leading number of a value row's text (`42 MB`, `20/20`), for a ratio. */
function leadingNumber(text: string | undefined): number | undefined {
  const match = /^-?\d+(\.\d+)?/.exec(text ?? '');
  return match ? Number(match[0]) : undefined;
}

/**
 * Each figure measured now and before: p50 and p95 (or the value), and now ÷ before. Below 1 is
 * faster or smaller. Figures only one of the runs has are left out.
 */
export function printComparison(previous: BenchResults, current: BenchResults): void {
  const before = new Map(previous.figures.map((figure) => [figure.name, figure]));
  const rows: string[][] = [];
  for (const figure of current.figures) {
    const old = before.get(figure.name);
    if (!old) continue;
    if (figure.p95Ms !== undefined && old.p95Ms !== undefined) {
      rows.push([
        figure.name,
        `${duration(old.p50Ms ?? Number.NaN)} / ${duration(old.p95Ms)}`,
        `${duration(figure.p50Ms ?? Number.NaN)} / ${duration(figure.p95Ms)}`,
        ratio(figure.p95Ms, old.p95Ms),
      ]);
    } else if (figure.value !== undefined && old.value !== undefined) {
      rows.push([
        figure.name,
        old.value,
        figure.value,
        ratio(leadingNumber(figure.value), leadingNumber(old.value)),
      ]);
    }
  }
  if (rows.length === 0) return;
  console.log(
    `\nCompared with ${previous.gitCommit} of ${previous.date} (load then ${previous.machine.loadAtStart.join(', ')}; now ${current.machine.loadAtStart.join(', ')}):`,
  );
  printTable(['measurement', 'before p50 / p95', 'now p50 / p95', 'now ÷ before'], rows);
}

function ratio(now: number | undefined, before: number | undefined): string {
  if (now === undefined || before === undefined || before === 0) return 'n/a';
  return `${(now / before).toFixed(2)}×`;
}
