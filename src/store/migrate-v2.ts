/**
 * Schema v2: from one table partitioned by event day (v1) to `<table>` + `<table>_events`
 * partitioned by detected_at (schema.ts).
 *
 * The DDL step is quick and runs before `serve` listens: the v1 table is renamed to
 * `<table>_v1` (an atomic rename) and the new tables are created, so new detections go to the new
 * layout at once. The rows of `<table>_v1` are then copied by copyLegacyRows() in the background
 * while `serve` accepts, one v1 partition per step:
 * - each partition is copied by two INSERT … SELECTs squashed into one block each, with a dedup
 *   token per (partition, table): a copy interrupted by a crash and run again is stored once;
 * - a partition is recorded as done in `schema_migrations` (table_name `<table>/v2-copy`, version
 *   = the partition's YYYYMMDD) after both inserts, so a restart resumes with the next one;
 * - once every partition is copied, `<table>_v1` is dropped.
 * v1 rows keep their detected_at; their fingerprint becomes the event_id (v1 stored the event per detection).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../telemetry/logger.ts';
import { formatEpochMs } from './detection-row.ts';
import { createDetectionsTableSql, createEventsTableSql, eventsTable } from './schema.ts';

const copyKey = (table: string): string => `${table}/v2-copy`;

/** The v2 detections columns the copy fills, named: later versions add columns (v3: event_time_implausible). */
const V2_DETECTION_COLUMNS = 'detected_at, event_time, rule_id, rule_title, rule_level, rule_status, rule_tags, product, category, service, host, matched, event_id, fingerprint, source, correlation_type, correlation_group, window_start, window_end, correlation_value, contributing, truncated';

export const legacyTable = (table: string): string => `${table}_v1`;

/** Version 1 exactly as released; never edit. */
export function legacyDetectionsTableSql(database: string, table: string): string {
  return `
CREATE TABLE IF NOT EXISTS \`${database}\`.\`${table}\`
(
    event_time          DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    detected_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    rule_id             LowCardinality(String),
    rule_title          LowCardinality(String),
    rule_level          LowCardinality(String),
    rule_status         LowCardinality(String),
    rule_tags           Array(LowCardinality(String)),
    product             LowCardinality(String),
    category            LowCardinality(String),
    service             LowCardinality(String),
    host                LowCardinality(String),
    matched             Map(String, String),
    sigma_event         String CODEC(ZSTD(3)),
    body                String CODEC(ZSTD(3)),
    log_attributes      Map(String, String),
    resource_attributes Map(String, String),
    severity_text       LowCardinality(String),
    severity_number     UInt8,
    trace_id            String,
    span_id             String,
    fingerprint         String,
    source              LowCardinality(String),

    INDEX idx_host host TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(event_time)
ORDER BY (rule_level, rule_id, host, event_time)
SETTINGS non_replicated_deduplication_window = 1000,
         ttl_only_drop_parts = 1`;
}

/** The DDL of v2, for the state the schema is in (a re-run after a crash skips what was done). */
export async function migrateV2Statements(client: ClickHouseClient, database: string, table: string): Promise<string[]> {
  const out: string[] = [];
  const columns = await tableColumns(client, database, table);
  // v1 layout still under the main name: move it aside for the copy, or drop it when empty (a new install).
  if (columns.has('sigma_event')) {
    const [n] = await rows<{ n: string }>(client, `SELECT count() AS n FROM \`${database}\`.\`${table}\``);
    out.push(Number(n?.n) === 0
      ? `DROP TABLE \`${database}\`.\`${table}\``
      : `RENAME TABLE \`${database}\`.\`${table}\` TO \`${database}\`.\`${legacyTable(table)}\``);
  }
  out.push(createDetectionsTableSql(database, table), createEventsTableSql(database, table));
  return out;
}

export interface CopyResult {
  readonly partitions: number;
  readonly rows: number;
  readonly dropped: boolean;
}

/**
 * Copies what is left of `<table>_v1` into the v2 tables, then drops it. Resumable and idempotent;
 * `signal` stops it between partitions (the next start continues). No-op without a v1 table.
 */
export async function copyLegacyRows(client: ClickHouseClient, database: string, table: string, opts: { logger?: Logger; signal?: AbortSignal } = {}): Promise<CopyResult> {
  const legacy = legacyTable(table);
  if ((await tableColumns(client, database, legacy)).size === 0) return { partitions: 0, rows: 0, dropped: false };
  const done = await copiedPartitions(client, database, table);
  const partitions = (await rows<{ p: string; n: string }>(client,
    `SELECT _partition_id AS p, count() AS n FROM \`${database}\`.\`${legacy}\` GROUP BY p ORDER BY p`)).filter((r) => !done.has(r.p));
  let copied = 0;
  let copiedRows = 0;
  const src = `\`${database}\`.\`${legacy}\``;
  // One block per INSERT … SELECT, so its dedup token covers the whole partition.
  const oneBlock = { min_insert_block_size_rows: '1000000000000', min_insert_block_size_bytes: '1000000000000', max_insert_block_size: '1000000000000', max_threads: 1 };
  for (const { p, n } of partitions) {
    if (opts.signal?.aborted) break;
    await client.command({
      query: `INSERT INTO \`${database}\`.\`${eventsTable(table)}\` SELECT fingerprint, detected_at, event_time, host, sigma_event, body, log_attributes, resource_attributes, severity_text, severity_number, trace_id, span_id, 0 FROM ${src} WHERE _partition_id = {p:String}`,
      query_params: { p },
      clickhouse_settings: { ...oneBlock, insert_deduplication_token: `migrate-v2:${p}:events` },
    });
    await client.command({
      query: `INSERT INTO \`${database}\`.\`${table}\` (${V2_DETECTION_COLUMNS}) SELECT detected_at, event_time, rule_id, rule_title, rule_level, rule_status, rule_tags, product, category, service, host, matched, fingerprint, fingerprint, source, '', map(), toDateTime64(0, 9, 'UTC'), toDateTime64(0, 9, 'UTC'), 0, [], 0 FROM ${src} WHERE _partition_id = {p:String}`,
      query_params: { p },
      clickhouse_settings: { ...oneBlock, insert_deduplication_token: `migrate-v2:${p}:detections` },
    });
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ table_name: copyKey(table), version: Number(p), name: 'copy', applied_at: formatEpochMs(Date.now()) }],
      format: 'JSONEachRow',
      // The embedded engine keeps session settings: a token set above must not make this insert a "duplicate".
      clickhouse_settings: { insert_deduplication_token: `migrate-v2:${p}:done` },
    });
    copied++;
    copiedRows += Number(n);
    opts.logger?.info({ stage: 'store', partition: p, rows: Number(n), left: partitions.length - copied }, `copied detections of ${legacy} into the detected_at layout`);
  }
  if (copied < partitions.length) return { partitions: copied, rows: copiedRows, dropped: false };
  await client.command({ query: `DROP TABLE IF EXISTS ${src}` });
  opts.logger?.info({ stage: 'store', table: legacy }, 'migration to the detected_at layout complete; dropped the old table');
  return { partitions: copied, rows: copiedRows, dropped: true };
}

async function copiedPartitions(client: ClickHouseClient, database: string, table: string): Promise<Set<string>> {
  const r = await client.query({
    query: `SELECT toString(version) AS p FROM \`${database}\`.schema_migrations FINAL WHERE table_name = {key:String}`,
    query_params: { key: copyKey(table) },
    format: 'JSONEachRow',
  });
  return new Set((await r.json<{ p: string }>()).map((x) => x.p));
}

async function tableColumns(client: ClickHouseClient, database: string, table: string): Promise<Set<string>> {
  const r = await client.query({
    query: 'SELECT name FROM system.columns WHERE database = {database:String} AND table = {table:String}',
    query_params: { database, table },
    format: 'JSONEachRow',
  });
  return new Set((await r.json<{ name: string }>()).map((x) => x.name));
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}
