import type { Summary } from './stats.js';

export interface PercentileRow {
  readonly name: string;
  readonly summary: Summary;
  /** Launch figures come from a handful of runs: a p99 of them would mean nothing. */
  readonly showP99: boolean;
  readonly target: string;
  readonly met: boolean | undefined;
}

export interface ValueRow {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

/** Figures collected section by section, printed as two tables at the end. */
export class Report {
  readonly percentiles: PercentileRow[] = [];
  readonly values: ValueRow[] = [];
  readonly notes: string[] = [];

  print(): void {
    if (this.percentiles.length > 0) {
      printTable(
        ['measurement', 'n', 'p50', 'p95', 'p99', 'target', 'met'],
        this.percentiles.map((r) => [
          r.name,
          String(r.summary.count),
          duration(r.summary.p50),
          duration(r.summary.p95),
          r.showP99 ? duration(r.summary.p99) : '',
          r.target,
          verdict(r.met),
        ]),
      );
    }
    if (this.values.length > 0) {
      console.log('');
      printTable(
        ['measurement', 'value', 'target', 'met'],
        this.values.map((r) => [r.name, r.value, r.target, verdict(r.met)]),
      );
    }
    if (this.notes.length > 0) {
      console.log('');
      for (const note of this.notes) console.log(note);
    }
  }
}

/** Milliseconds below 1 s, seconds above: each figure in the unit its target is written in. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  const size = Math.abs(ms);
  if (size < 1000) return `${ms.toFixed(size < 10 ? 2 : size < 100 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}

function verdict(met: boolean | undefined): string {
  if (met === undefined) return '';
  return met ? 'yes' : 'NO';
}

export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const row of rows) console.log(line(row));
}
