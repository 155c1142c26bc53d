/**
 * Every config key with its flag and environment variable: one table, so the file, the environment and
 * the command line can never disagree, and docs/configuration.md is checked against it (test/unit/config).
 */
/** `bool` values arrive as text from the environment and flags (true/false, 1/0, yes/no); the schema parses them. */
export type KeyKind = 'string' | 'int' | 'bool' | 'list' | 'map-list' | 'secret';

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
  k('receiver.max_connections', 'max-connections', 'int', 'connections open at once on each listening port; more are closed on arrival'),
  k('receiver.max_records_per_request', 'max-records-per-request', 'int', 'most log records in one request (more: refused, 413 / RESOURCE_EXHAUSTED)'),
  k('receiver.max_attributes_per_record', 'max-attributes-per-record', 'int', 'most attributes, map entries and array elements in one log record (more: request refused)'),
  k('receiver.max_value_chars', 'max-value-chars', 'int', 'longest string value in a log record, in characters (longer: request refused)'),
  k('receiver.memory_limit_mib', 'memory-limit-mib', 'int', 'memory ceiling: decoded bytes in flight are held under a quarter of it, less as resident memory nears it; the rest get a retryable status (0 = no limit); at most 90 % of a container\'s memory limit'),
  k('receiver.tls_cert_file', 'tls-cert-file', 'string', 'PEM certificate chain for both listeners; set (with the key) = TLS'),
  k('receiver.tls_key_file', 'tls-key-file', 'string', 'PEM private key for receiver.tls_cert_file'),
  k('receiver.tls_client_ca_file', 'tls-client-ca-file', 'string', 'PEM CA bundle; set = clients must present a certificate it signed (mTLS)'),
  k('receiver.auth_token', 'auth-token', 'secret', 'accepted bearer token / API key (comma-separated for rotation); empty = no authentication'),
  k('receiver.auth_tokens_file', 'auth-tokens-file', 'string', 'file of accepted tokens, one per line (# comments), read at start-up'),
  k('receiver.allow_insecure_non_loopback', 'allow-insecure-non-loopback', 'bool', 'allow plaintext listeners on a non-loopback address'),
  k('rules.paths', 'rules', 'list', 'rule files or directories (repeatable)'),
  k('rules.placeholders', 'placeholder', 'map-list', 'values for a %placeholder%: NAME=v1,v2 (repeatable)'),
  k('rules.mapping_files', 'mapping-file', 'list', 'logsource mapping overrides (repeatable)'),
  k('rules.status', 'rule-status', 'list', 'only run rules with these statuses'),
  k('rules.min_level', 'rule-min-level', 'string', 'only run rules at or above this level'),
  k('rules.tags', 'rule-tags', 'list', 'only run rules with any of these tags (globs)'),
  k('rules.exclude_tags', 'rule-exclude-tags', 'list', 'never run rules with these tags (globs)'),
  k('rules.logsources', 'rule-logsources', 'list', 'only run rules of these logsources, product/category/service globs'),
  k('rules.disabled_ids', 'disable-rule', 'list', 'rule ids never to run (repeatable)'),
  k('workers.threads', 'workers', 'int', 'detection worker threads (0 = one per core, a container\'s CPU limit counted; hunt: one per core but one, at least one)'),
  k('workers.max_queue', 'max-queue', 'int', 'requests waiting for a worker before the receiver answers "retry later" (0 = threads x 4)'),
  k('storage.clickhouse_url', 'clickhouse-url', 'string', 'ClickHouse HTTP(S) URL; empty = embedded ClickHouse in --data-dir'),
  k('storage.clickhouse_user', 'clickhouse-user', 'string', 'ClickHouse user'),
  k('storage.clickhouse_password', 'clickhouse-password', 'secret', 'ClickHouse password'),
  k('storage.clickhouse_password_file', 'clickhouse-password-file', 'string', 'file holding the ClickHouse password (instead of clickhouse_password)'),
  k('storage.clickhouse_ca_file', 'clickhouse-ca-file', 'string', 'PEM CA bundle to verify an https:// ClickHouse'),
  k('storage.data_dir', 'data-dir', 'string', 'embedded ClickHouse data directory'),
  k('storage.database', 'database', 'string', 'ClickHouse database for detections'),
  k('storage.table', 'table', 'string', 'detections table name'),
  k('storage.ttl_days', 'ttl-days', 'int', 'days detections are kept (0 = forever)'),
  k('storage.batch_rows', 'batch-rows', 'int', 'most detection rows per ClickHouse insert'),
  k('storage.insert_interval_ms', 'insert-interval-ms', 'int', 'least time between two ClickHouse inserts (a part each); acknowledgements do not wait for it'),
  k('storage.log_dir', 'log-dir', 'string', 'detection log (write-ahead log requests are acknowledged on); empty = <data_dir>/detection-log'),
  k('storage.log_max_bytes', 'log-max-bytes', 'int', 'bound on the detection log; when full, requests are answered "retry later"'),
  k('storage.max_value_bytes', 'max-value-bytes', 'int', 'longer stored values are cut and the row flagged truncated'),
  k('storage.store_body', 'store-body', 'bool', "store each triggering record's original body in <table>_events next to its Sigma event (false: body stays empty; SigNoz keeps the original)"),
  k('storage.connect_timeout_s', 'connect-timeout-s', 'int', 'how long start-up waits for a ClickHouse server (and alerts.redis_url) to become reachable, retrying with backoff'),
  k('correlation.lateness_ms', 'correlation-lateness-ms', 'int', 'how late (event time, behind its group\'s newest event) a base-rule match may arrive and still count as in order; correlations fire this much after their window closes'),
  k('correlation.max_groups', 'correlation-max-groups', 'int', 'open correlation groups kept in all (least recently updated evicted, counted)'),
  k('correlation.max_groups_per_rule', 'correlation-max-groups-per-rule', 'int', 'open groups kept per correlation rule'),
  k('correlation.max_events_per_group', 'correlation-max-events-per-group', 'int', 'pending base-rule matches kept per group (oldest dropped, counted)'),
  k('correlation.snapshot_interval_s', 'correlation-snapshot-interval-s', 'int', 'seconds between snapshots of the correlation state in the data directory'),
  k('correlation.log_max_bytes', 'correlation-log-max-bytes', 'int', 'bound on the correlation log (matches since the last snapshot); when full, requests are answered "retry later"'),
  k('correlation.redis_url', 'correlation-redis-url', 'secret', 'Redis shared by replicas: every replica hands its matches to one stream and one leader correlates them (groups that span hosts); empty = each process correlates what it receives'),
  k('correlation.leader_lease_ms', 'correlation-leader-lease-ms', 'int', 'with correlation.redis_url: how long a leader holds the correlation lease without renewing it (failover time)'),
  k('alerts.keep_url', 'keep-url', 'string', 'Keep base URL; empty = alerts are logged'),
  k('alerts.keep_api_key', 'keep-api-key', 'secret', 'Keep API key (X-API-KEY)'),
  k('alerts.keep_api_key_file', 'keep-api-key-file', 'string', 'file holding the Keep API key (instead of keep_api_key)'),
  k('alerts.keep_ca_file', 'keep-ca-file', 'string', 'PEM CA bundle to verify an https:// Keep'),
  k('alerts.min_level', 'alert-min-level', 'string', 'lowest rule level that alerts'),
  k('alerts.environment', 'environment', 'string', 'environment name on alerts'),
  k('alerts.url_template', 'alert-url-template', 'string', 'link on each alert; {host} {rule_id} {from_ms} {to_ms} are filled in'),
  k('alerts.group_by', 'alert-group-by', 'list', 'fields whose values make the alert fingerprint (rule_id, host, user, image, level, product, category, service or any event field)'),
  k('alerts.dedup_window_s', 'alert-dedup-window-s', 'int', 'repeats of a fingerprint within this many seconds update one alert (0 = off)'),
  k('alerts.max_per_minute', 'alert-max-per-minute', 'int', 'new alerts per minute; the rest are counted into one digest alert per minute (0 = no ceiling)'),
  k('alerts.queue_max_bytes', 'alert-queue-max-bytes', 'int', 'bound of the on-disk alert log <data_dir>/alert-log; when full, the oldest alerts are counted into the digest'),
  k('alerts.redis_url', 'alert-redis-url', 'secret', 'Redis URL shared by replicas for alert dedup and throttling; empty = local state'),
  k('alerts.resolve_after_s', 'alert-resolve-after-s', 'int', 'send status resolved once a fingerprint has been quiet this many seconds (0 = never)'),
  k('logging.level', 'log-level', 'string', 'trace|debug|info|warn|error|fatal|silent'),
  k('shutdown_timeout_ms', 'shutdown-timeout-ms', 'int', 'longest graceful shutdown before exiting'),
];
