import type { DatabaseType } from './generation.js';
import type { DatabaseCount, PreviewRecord } from './preview.js';

/** Tables and rows of a preview's database, as one count finds them. */
export type DatabaseTally = Omit<DatabaseCount, 'countedAt'>;

/** Port: counts what a preview's PostgreSQL database holds, from inside its task. */
export interface DatabaseInspector {
  /** Undefined when the database cannot be asked now (not running, too slow, refused). */
  countDatabase(previewId: string): Promise<DatabaseTally | undefined>;
}

/** The database types whose contents are counted: the counting query is PostgreSQL's. */
export function isCountedDatabase(dbType: DatabaseType): boolean {
  return dbType === 'postgresql';
}

/**
 * Exact `count(*)` of every table of the app (not PostgreSQL's own schemas, not partitions, whose
 * parent counts them, not alembic's version table), in one statement. Exact, not the statistics'
 * `n_live_tup` estimate: a preview database is small and freshly seeded, and its statistics lag
 * the seed by up to an autovacuum round, so an estimate would show 0 rows of a seeded database.
 * What bounds the cost is `statement_timeout`.
 */
const countQuery = [
  "SELECT count(*) || ' ' || coalesce(sum(counted.n), 0) FROM (",
  "SELECT (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', ns.nspname, c.relname), false, true, '')))[1]::text::bigint AS n",
  'FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace',
  "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition",
  "AND ns.nspname <> 'information_schema' AND ns.nspname NOT LIKE 'pg\\_%'",
  "AND c.relname <> 'alembic_version'",
  ') AS counted',
].join(' ');

/**
 * How the count runs inside the database container: psql over the task's loopback with the
 * container's own credentials, in a read-only transaction, giving up after 3 s to connect, 2 s to
 * count and 0.5 s waiting for a lock (a migration holding one is not waited for).
 */
export const postgresCount = {
  command: [
    'sh',
    '-c',
    'PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$0"',
    countQuery,
  ],
  environment: {
    PGCONNECT_TIMEOUT: '3',
    PGOPTIONS: '-c statement_timeout=2000 -c lock_timeout=500 -c default_transaction_read_only=on',
  },
} as const;

/** The count from psql's output (`<tables> <records>`), or undefined for anything else. */
export function parsePostgresCount(output: string): DatabaseTally | undefined {
  const match = /^(\d+) (\d+)$/.exec(output.trim());
  if (!match) return undefined;
  const tables = Number(match[1]);
  const records = Number(match[2]);
  return Number.isSafeInteger(tables) && Number.isSafeInteger(records) ? { tables, records } : undefined;
}

/** Why a runtime (by its kind) counts no database. */
const uncountedBy: Readonly<Record<string, string>> = {
  process: 'the process runtime runs no database of its own',
  ecs: 'not measured on Fargate: the service cannot run a query inside a task’s database',
};

/**
 * The status's database contents: the last count and when it was taken, or null and why not.
 * `counter` is the runtime's kind and whether it counts databases.
 */
export function databaseContents(
  record: PreviewRecord,
  counter: { readonly kind: string; readonly counts: boolean } | undefined,
): {
  tables: number | null;
  records: number | null;
  countedAt: string | null;
  notCountedReason: string | null;
} {
  const count = record.databaseCount;
  if (count) {
    return {
      tables: count.tables,
      records: count.records,
      countedAt: count.countedAt,
      notCountedReason: null,
    };
  }
  const notCounted = (reason: string) => ({
    tables: null,
    records: null,
    countedAt: null,
    notCountedReason: reason,
  });
  if (record.dbType === 'none') return notCounted('the preview has no database');
  if (!isCountedDatabase(record.dbType)) return notCounted(`${record.dbType} databases are not counted`);
  if (counter && !counter.counts) {
    return notCounted(uncountedBy[counter.kind] ?? `the ${counter.kind} runtime does not count databases`);
  }
  return notCounted('not counted yet');
}
