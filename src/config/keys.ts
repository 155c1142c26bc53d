/**
 * Every config key with its flag and environment variable: one table, so the file, the environment and
 * the command line can never disagree, and the README's reference is checked against it (test/unit/config).
 */
export type KeyKind = 'string' | 'int' | 'list' | 'map-list' | 'secret';

export interface ConfigKey {
  readonly path: string;
  readonly flag: string;
  readonly env: string;
  readonly kind: KeyKind;
  readonly help: string;
}

const k = (path: string, flag: string, kind: KeyKind, help: string): ConfigKey => ({
  path, flag, kind, help, env: `OTEL_SIGMA_${flag.replaceAll('-', '_').toUpperCase()}`,
});

export const CONFIG_KEYS: readonly ConfigKey[] = [
  k('receiver.grpc_listen', 'grpc-listen', 'string', 'OTLP/gRPC listen address HOST:PORT'),
  k('receiver.http_listen', 'http-listen', 'string', 'OTLP/HTTP (+ /healthz, /readyz, /metrics) listen address HOST:PORT'),
  k('receiver.max_request_bytes', 'max-request-bytes', 'int', 'largest accepted request, compressed and inflated'),
  k('rules.paths', 'rules', 'list', 'rule files or directories (repeatable)'),
  k('rules.placeholders', 'placeholder', 'map-list', 'values for a %placeholder%: NAME=v1,v2 (repeatable)'),
  k('rules.mapping_files', 'mapping-file', 'list', 'logsource mapping overrides (repeatable)'),
  k('rules.status', 'rule-status', 'list', 'only run rules with these statuses'),
  k('rules.min_level', 'rule-min-level', 'string', 'only run rules at or above this level'),
  k('rules.tags', 'rule-tags', 'list', 'only run rules with any of these tags (globs)'),
  k('rules.exclude_tags', 'rule-exclude-tags', 'list', 'never run rules with these tags (globs)'),
  k('rules.logsources', 'rule-logsources', 'list', 'only run rules of these logsources, product/category/service globs'),
  k('rules.disabled_ids', 'disable-rule', 'list', 'rule ids never to run (repeatable)'),
  k('workers.threads', 'workers', 'int', 'detection worker threads (0 = one per core)'),
  k('workers.max_queue', 'max-queue', 'int', 'requests waiting for a worker before the receiver answers "retry later" (0 = threads x 4)'),
  k('storage.clickhouse_url', 'clickhouse-url', 'string', 'ClickHouse HTTP(S) URL; empty = embedded ClickHouse in --data-dir'),
  k('storage.clickhouse_user', 'clickhouse-user', 'string', 'ClickHouse user'),
  k('storage.clickhouse_password', 'clickhouse-password', 'secret', 'ClickHouse password'),
  k('storage.data_dir', 'data-dir', 'string', 'embedded ClickHouse data directory'),
  k('storage.database', 'database', 'string', 'ClickHouse database for detections'),
  k('storage.table', 'table', 'string', 'detections table name'),
  k('storage.ttl_days', 'ttl-days', 'int', 'days detections are kept (0 = forever)'),
  k('storage.batch_rows', 'batch-rows', 'int', 'rows per ClickHouse insert'),
  k('storage.flush_interval_ms', 'flush-interval-ms', 'int', 'longest a detection waits before its insert'),
  k('alerts.keep_url', 'keep-url', 'string', 'Keep base URL; empty = alerts are logged'),
  k('alerts.keep_api_key', 'keep-api-key', 'secret', 'Keep API key (X-API-KEY)'),
  k('alerts.min_level', 'alert-min-level', 'string', 'lowest rule level that alerts'),
  k('alerts.environment', 'environment', 'string', 'environment name on alerts'),
  k('alerts.url_template', 'alert-url-template', 'string', 'link on each alert; {host} {rule_id} {from_ms} {to_ms} are filled in'),
  k('logging.level', 'log-level', 'string', 'trace|debug|info|warn|error|fatal|silent'),
  k('shutdown_timeout_ms', 'shutdown-timeout-ms', 'int', 'longest graceful shutdown before exiting'),
];
