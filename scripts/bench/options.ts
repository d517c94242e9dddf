import { parseArgs } from 'node:util';
import type { TierName } from '#core/tiers.js';

export const sectionNames = [
  'cached',
  'cold',
  'proxy',
  'status',
  'log-rate',
  'log-previews',
  'log-fanout',
  'log-many',
  'scale',
] as const;
export type Section = (typeof sectionNames)[number];

/** Names that stand for several sections. */
const sectionGroups: Readonly<Record<string, readonly Section[]>> = {
  launch: ['cached', 'cold'],
  logs: ['log-rate', 'log-previews', 'log-fanout', 'log-many'],
};

export interface BenchOptions {
  readonly only: ReadonlySet<Section>;
  readonly runs: number;
  readonly scale: number;
  readonly tier: TierName;
  /** Where the figures are kept (and the last run's are read from, to compare). */
  readonly resultsPath: string;
  /** Previews of the log-many run (each with 5 clients, 100 lines/s). */
  readonly logPreviews: number;
}

export const usage = `Usage: npm run bench -- [--only launch,proxy,status,logs,scale] [--runs 5] [--scale 20] [--tier free] [--log-previews 100] [--results bench-results.json]
  --only          sections to run: cached, cold, launch (= cached + cold), proxy, status, log-rate,
                  log-previews, log-fanout, log-many, logs (= the four log-…), scale (default: all)
  --runs          launches per generation for the cached and cold figures (1-50, default 5)
  --scale         previews launched at once by the scale run (1-100, default 20)
  --tier          plan of the user whose previews the launch, proxy and status runs use (default free)
  --log-previews  previews of the log-many run, 5 clients each at 100 lines/s (1-100, default 100)
  --results       file the figures are written to, after comparing them with the figures it holds (default bench-results.json)`;

export function parseOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      only: { type: 'string' },
      runs: { type: 'string', default: '5' },
      scale: { type: 'string', default: '20' },
      tier: { type: 'string', default: 'free' },
      results: { type: 'string', default: 'bench-results.json' },
      'log-previews': { type: 'string', default: '100' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return {
    only: sectionsOf(values.only),
    runs: integer('--runs', values.runs, 1, 50),
    scale: integer('--scale', values.scale, 1, 100),
    tier: tierOf(values.tier),
    resultsPath: values.results,
    logPreviews: integer('--log-previews', values['log-previews'], 1, 100),
  };
}

function sectionsOf(list: string | undefined): Set<Section> {
  if (list === undefined) return new Set(sectionNames);
  const chosen = new Set<Section>();
  for (const name of list.split(',').map((s) => s.trim())) {
    const group = sectionGroups[name];
    if (group) {
      for (const section of group) chosen.add(section);
    } else if ((sectionNames as readonly string[]).includes(name)) {
      chosen.add(name as Section);
    } else {
      throw new Error(`--only: unknown section "${name}"\n${usage}`);
    }
  }
  return chosen;
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function tierOf(text: string): TierName {
  if (text === 'free' || text === 'pro' || text === 'enterprise') return text;
  throw new Error(`--tier must be free, pro or enterprise, not "${text}"`);
}
