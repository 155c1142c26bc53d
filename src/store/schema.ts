/**
 * The detections table, as an analyst reads it. Names are validated identifiers, interpolated with
 * backquotes; everything else in these statements is fixed text.
 *
 * Columns of `<database>.<table>` (default `otel_sigma.detections`), one row per (rule, log record):
 *
 * | column              | type                              | meaning |
 * |---------------------|-----------------------------------|---------|
 * | event_time          | DateTime64(9, 'UTC')              | When the log record happened (record time, else observed time, else receive time), ns precision. |
 * | detected_at         | DateTime64(3, 'UTC')              | When otel-sigma evaluated the record. |
 * | rule_id             | LowCardinality(String)            | Sigma rule `id` (a UUID). LowCardinality: a ruleset has a few thousand rules. |
 * | rule_title          | LowCardinality(String)            | Sigma rule `title`; same cardinality as rule_id. |
 * | rule_level          | LowCardinality(String)            | informational, low, medium, high, critical. |
 * | rule_status         | LowCardinality(String)            | stable, test, experimental, deprecated, unsupported. |
 * | rule_tags           | Array(LowCardinality(String))     | Sigma tags, e.g. `attack.t1059.001`. Query with `has(rule_tags, 'attack.execution')`. |
 * | product             | LowCardinality(String)            | Sigma logsource product of the event (windows, linux, …). |
 * | category            | LowCardinality(String)            | Sigma logsource category (process_creation, …). |
 * | service             | LowCardinality(String)            | Sigma logsource service (security, sysmon, auditd, …). |
 * | host                | LowCardinality(String)            | Host the record came from (host.name / Computer / hostname). |
 * | matched             | Map(String, String)               | The fields the rule looked at and their values: `matched['Image']`. |
 * | sigma_event         | String                            | The whole mapped Sigma event as JSON (`JSONExtractString(sigma_event, 'CommandLine')`). |
 * | body                | String                            | The original OTLP log body (text, or JSON for structured bodies). |
 * | log_attributes      | Map(String, String)               | OTLP log record attributes, values as strings. |
 * | resource_attributes | Map(String, String)               | OTLP resource attributes, values as strings. |
 * | severity_text       | LowCardinality(String)            | OTLP severity text. |
 * | severity_number     | UInt8                             | OTLP severity number (0–24). |
 * | trace_id            | String                            | OTLP trace id, hex, empty when absent. |
 * | span_id             | String                            | OTLP span id, hex, empty when absent. |
 * | fingerprint         | String                            | Stable identity of (rule, record): equal for replays of the same record. |
 * | source              | LowCardinality(String)            | `stream` (live OTLP) or `hunt` (a retro-hunt over stored logs). |
 *
 * Layout: one partition per day of event_time (time-range queries prune whole days and TTL drops
 * whole parts); sort key (rule_level, rule_id, host, event_time) serves "high/critical in the last
 * day", "everything rule X fired on" and, inside a rule, a host's timeline; a bloom filter on host
 * serves "everything on host Y" without a rule. Retention (`ttl_days`) counts from detected_at, not
 * event_time: a detection on an old log (a hunt, a replay, a host whose clock is wrong) is kept for
 * the full retention instead of being dropped on insert.
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

export function createDetectionsTableSql(database: string, table: string): string {
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
SETTINGS non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW},
         ttl_only_drop_parts = 1`;
}

/** The TTL expression for `days` (> 0), exactly as ClickHouse prints it back in system.tables. */
export function ttlExpression(days: number): string {
  return `toDateTime(detected_at) + toIntervalDay(${days})`;
}
