/**
 * Versioned, idempotent schema migrations. Each applied version is recorded in
 * `<database>.schema_migrations` per table name (several detection tables may share a database), so
 * a restart runs only what is new. Retention is configuration, not a version: after migrating, the
 * table's TTL is compared with `ttlDays` and ALTERed when it differs (with ttl_only_drop_parts the
 * change drops whole expired parts instead of rewriting them).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, PipelineError } from '../errors.ts';
import { formatEpochMs } from './detection-row.ts';
import { isRetryableStoreError } from './retry-policy.ts';
import { legacyDetectionsTableSql, migrateV2Statements } from './migrate-v2.ts';
import { addEventTimeFlagSql, assertIdentifier, createDatabaseSql, createMigrationsTableSql, eventsTable, ttlExpression, verticalMergesSql } from './schema.ts';

export interface SchemaOptions {
  readonly database: string;
  readonly table: string;
  /** Days to keep detections, counted from detected_at; 0 keeps them forever. */
  readonly ttlDays: number;
  /** Where (ClickHouseHandle.target), for the error message: a timeout names the server. */
  readonly target?: string | undefined;
}

interface Migration {
  readonly version: number;
  readonly name: string;
  /** May look at the current schema (a migration re-run after a crash must not redo what it did). */
  statements(database: string, table: string, client: ClickHouseClient): string[] | Promise<string[]>;
}

/** Append only; never edit a released migration — add the next version. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'create_detections', statements: (db, t) => [legacyDetectionsTableSql(db, t)] },
  // Partition by detected_at, events once per record; the old rows are copied in the background (migrate-v2.ts).
  { version: 2, name: 'detected_at_layout', statements: (db, t, client) => migrateV2Statements(client, db, t) },
  // Implausible event times (a sender's bad clock or forged time) kept and flagged.
  { version: 3, name: 'event_time_implausible', statements: (db, t) => [addEventTimeFlagSql(db, t)] },
  // Merges read a column at a time: merging the events table's wide rows all columns at once took 209–388 MB.
  { version: 4, name: 'vertical_merges', statements: (db, t) => [verticalMergesSql(db, t), verticalMergesSql(db, eventsTable(t))] },
];

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: number[];
  readonly ttl: 'unchanged' | 'set' | 'removed';
}

export async function migrate(client: ClickHouseClient, opts: SchemaOptions): Promise<MigrateResult> {
  const database = assertIdentifier('storage.database', opts.database);
  const table = assertIdentifier('storage.table', opts.table);
  if (!Number.isInteger(opts.ttlDays) || opts.ttlDays < 0) {
    throw new Error(`"clickhouse.ttl_days" is ${opts.ttlDays}; expected an integer >= 0 (0 = keep forever)`);
  }
  let step = 'create database';
  try {
    await client.command({ query: createDatabaseSql(database) });
    step = 'create schema_migrations';
    await client.command({ query: createMigrationsTableSql(database) });
    const done = await appliedVersions(client, database, table);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      step = `migration ${m.version} (${m.name})`;
      for (const query of await m.statements(database, table, client)) await client.command({ query });
      await client.insert({
        table: `${database}.schema_migrations`,
        values: [{ table_name: table, version: m.version, name: m.name, applied_at: formatEpochMs(Date.now()) }],
        format: 'JSONEachRow',
      });
      applied.push(m.version);
    }
    step = 'apply TTL';
    const ttl = await applyTtl(client, database, table, opts.ttlDays);
    await applyTtl(client, database, eventsTable(table), opts.ttlDays);
    return { applied, ttl };
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    const where = opts.target !== undefined ? ` on ${opts.target}` : '';
    throw new PipelineError(ErrorCode.STORE, `ClickHouse schema migration failed at ${step} for ${database}.${table}${where}: ${msg}`, isRetryableStoreError(cause), { cause });
  }
}

async function appliedVersions(client: ClickHouseClient, database: string, table: string): Promise<Set<number>> {
  const rs = await client.query({
    query: `SELECT version FROM \`${database}\`.schema_migrations FINAL WHERE table_name = {table:String}`,
    query_params: { table },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ version: number }>();
  return new Set(rows.map((r) => Number(r.version)));
}

/** The table's current TTL expression as ClickHouse prints it, or '' when it has none. */
export async function currentTtl(client: ClickHouseClient, database: string, table: string): Promise<string> {
  const rs = await client.query({
    query: 'SELECT engine_full FROM system.tables WHERE database = {database:String} AND name = {table:String}',
    query_params: { database, table },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ engine_full: string }>();
  const engine = rows[0]?.engine_full ?? '';
  return /\bTTL (.+?)(?: SETTINGS |$)/.exec(engine)?.[1]?.trim() ?? '';
}

async function applyTtl(client: ClickHouseClient, database: string, table: string, days: number): Promise<MigrateResult['ttl']> {
  const want = days > 0 ? ttlExpression(days) : '';
  const have = await currentTtl(client, database, table);
  if (have === want) return 'unchanged';
  const target = `\`${database}\`.\`${table}\``;
  if (want === '') {
    await client.command({ query: `ALTER TABLE ${target} REMOVE TTL` });
    return 'removed';
  }
  await client.command({ query: `ALTER TABLE ${target} MODIFY TTL toDateTime(detected_at) + INTERVAL ${days} DAY` });
  return 'set';
}
