/**
 * The detections tables, as an analyst reads them. Names are validated identifiers, interpolated
 * with backquotes; everything else in these statements is fixed text.
 *
 * `<database>.<table>` (default `otel_sigma.detections`), one row per (rule, log record), or per
 * (correlation rule, group, window):
 *
 * | column            | type                          | meaning |
 * |-------------------|-------------------------------|---------|
 * | detected_at       | DateTime64(3, 'UTC')          | When otel-sigma evaluated the record: the server's clock. Partitions, TTL and the default time filter use it. |
 * | event_time        | DateTime64(9, 'UTC')          | When the log record happened (record time, else observed time, else receive time): the sender's clock. |
 * | rule_id           | LowCardinality(String)        | Sigma rule `id`. |
 * | rule_title        | LowCardinality(String)        | Sigma rule `title`. |
 * | rule_level        | LowCardinality(String)        | informational, low, medium, high, critical. |
 * | rule_status       | LowCardinality(String)        | stable, test, experimental, deprecated, unsupported. |
 * | rule_tags         | Array(LowCardinality(String)) | Sigma tags, e.g. `attack.t1059.001`: `has(rule_tags, 'attack.execution')`. |
 * | product, category, service | LowCardinality(String) | Sigma logsource of the event. |
 * | host              | LowCardinality(String)        | Host the record came from (host.name / Computer / hostname). |
 * | matched           | Map(String, String)           | The fields the rule looked at and their values: `matched['Image']`. |
 * | event_id          | String                        | The triggering record in `<table>_events` (one row per record however many rules fired). |
 * | fingerprint       | String                        | Stable identity of (rule, record): equal for replays of the same record. |
 * | source            | LowCardinality(String)        | `stream` (live OTLP) or `hunt` (a retro-hunt over stored logs). |
 * | correlation_type  | LowCardinality(String)        | '' for single-event rules; event_count, value_count, temporal, … for correlations. |
 * | correlation_group | Map(String, String)           | A correlation's group-by field → value. |
 * | window_start, window_end | DateTime64(9, 'UTC')   | A correlation's window in event time. |
 * | correlation_value | Float64                       | The count or aggregate the correlation condition was checked on. |
 * | contributing      | Array(String)                 | Fingerprints of the detections a correlation is made of (bounded sample). |
 * | truncated         | UInt8                         | 1 when a value was cut to storage.max_value_bytes. |
 * | event_time_implausible | UInt8                    | 1 when event_time is before 1990 or more than a day after detected_at: kept as sent, flagged (migration v3). |
 *
 * `<database>.<table>_events`: event_id, detected_at, event_time, host, sigma_event (the mapped
 * Sigma event as JSON: `JSONExtractString(sigma_event, 'CommandLine')`), body (the original OTLP
 * body; empty with storage.store_body false), log_attributes, resource_attributes, severity_text, severity_number, trace_id, span_id,
 * truncated. Join on event_id (and detected_at, which both rows share, so the join prunes parts).
 *
 * Layout: one partition per day of detected_at, the server's clock, so a batch whose events span
 * months or carry a hostile timestamp still writes one part per table, and TTL (`ttl_days`, on the
 * same clock) drops whole parts. Sort key (toStartOfHour(detected_at), rule_level, rule_id, host)
 * serves the queries users run: a time range first, then "high/critical", "rule X", "host Y"; a
 * bloom filter on host serves a host across rules, one on event_id the join.
 * `non_replicated_deduplication_window` lets an insert retried with the same
 * `insert_deduplication_token` be stored once.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws a plain Error naming the key; config validation turns it into ERR_CONFIG. */
export function assertIdentifier(key: string, value: string): string {
  if (!IDENTIFIER.test(value)) throw new Error(`"${key}" is ${JSON.stringify(value)}; expected an identifier matching ${String(IDENTIFIER)}`);
  return value;
}

/** How many recent inserts the table remembers for deduplication (one insert = one batch). */
export const DEDUPLICATION_WINDOW = 1000;

export function createDatabaseSql(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS \`${database}\``;
}

export function createMigrationsTableSql(database: string): string {
  // ReplacingMergeTree: two processes migrating at once may both record a version; reads use FINAL.
  return `
CREATE TABLE IF NOT EXISTS \`${database}\`.schema_migrations
(
    table_name  String,
    version     UInt32,
    name        String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (table_name, version)`;
}

export const eventsTable = (table: string): string => `${table}_events`;

/**
 * Every merge reads one column at a time (vertical) rather than all columns of all its parts at once. The
 * events table's rows are a few KB of strings in ~20 column streams: merging its parts under attack-dense
 * load took 209–388 MB horizontally and 116–188 MB vertically (test/bench/store-memory.ts). On the embedded
 * ClickHouse that memory is otel-sigma's own, which the receiver's memory limit counts. By default ClickHouse
 * merges vertically only from 131,072 rows and 11 columns.
 */
const MERGE_SETTINGS = 'vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_columns_to_activate = 1';

const TABLE_SETTINGS = `SETTINGS non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW},
         ttl_only_drop_parts = 1,
         ${MERGE_SETTINGS}`;

/** MERGE_SETTINGS for a table created before them (migration 4). */
export function verticalMergesSql(database: string, table: string): string {
  return `ALTER TABLE \`${database}\`.\`${table}\` MODIFY SETTING ${MERGE_SETTINGS}`;
}

export function createDetectionsTableSql(database: string, table: string): string {
  return `
CREATE TABLE IF NOT EXISTS \`${database}\`.\`${table}\`
(
    detected_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    event_time          DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    rule_id             LowCardinality(String),
    rule_title          LowCardinality(String),
    rule_level          LowCardinality(String),
    rule_status         LowCardinality(String),
    rule_tags           Array(LowCardinality(String)),
    product             LowCardinality(String),
    category            LowCardinality(String),
    service             LowCardinality(String),
    host                LowCardinality(String),
    matched             Map(String, String) CODEC(ZSTD(3)),
    event_id            String,
    fingerprint         String,
    source              LowCardinality(String),
    correlation_type    LowCardinality(String),
    correlation_group   Map(String, String),
    window_start        DateTime64(9, 'UTC'),
    window_end          DateTime64(9, 'UTC'),
    correlation_value   Float64,
    contributing        Array(String),
    truncated           UInt8,

    INDEX idx_host host TYPE bloom_filter GRANULARITY 4,
    INDEX idx_event event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(detected_at)
ORDER BY (toStartOfHour(detected_at), rule_level, rule_id, host, detected_at)
${TABLE_SETTINGS}`;
}

export function createEventsTableSql(database: string, table: string): string {
  return `
CREATE TABLE IF NOT EXISTS \`${database}\`.\`${eventsTable(table)}\`
(
    event_id            String,
    detected_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    event_time          DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    host                LowCardinality(String),
    sigma_event         String CODEC(ZSTD(3)),
    body                String CODEC(ZSTD(3)),
    log_attributes      Map(String, String) CODEC(ZSTD(3)),
    resource_attributes Map(String, String) CODEC(ZSTD(3)),
    severity_text       LowCardinality(String),
    severity_number     UInt8,
    trace_id            String,
    span_id             String,
    truncated           UInt8,

    INDEX idx_event event_id TYPE bloom_filter GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(detected_at)
ORDER BY (toStartOfHour(detected_at), host, event_id)
${TABLE_SETTINGS}`;
}

/** Schema v3: the implausible-time flag, after `truncated` (rows written before it read 0). */
export function addEventTimeFlagSql(database: string, table: string): string {
  return `ALTER TABLE \`${database}\`.\`${table}\` ADD COLUMN IF NOT EXISTS event_time_implausible UInt8 DEFAULT 0 AFTER truncated`;
}

/** The TTL expression for `days` (> 0), exactly as ClickHouse prints it back in system.tables. */
export function ttlExpression(days: number): string {
  return `toDateTime(detected_at) + toIntervalDay(${days})`;
}
