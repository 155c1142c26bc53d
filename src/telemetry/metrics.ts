/**
 * Prometheus metrics (prom-client), one registry per process. Names follow
 * `otel_sigma_<thing>_<unit>`; labels are low-cardinality (stage, code, level, transport).
 * Hot loops keep local counts and add them once per batch.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
let defaultsStarted = false;

export function startDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: registry, prefix: 'otel_sigma_' });
}

export const metrics = {
  requestsTotal: new Counter({ name: 'otel_sigma_requests_total', help: 'Export requests received, by transport and outcome.', labelNames: ['transport', 'outcome'] as const, registers: [registry] }),
  recordsReceived: new Counter({ name: 'otel_sigma_records_received_total', help: 'Log records decoded from accepted requests.', registers: [registry] }),
  recordsProcessed: new Counter({ name: 'otel_sigma_records_processed_total', help: 'Log records mapped and evaluated.', registers: [registry] }),
  recordsRejected: new Counter({ name: 'otel_sigma_records_rejected_total', help: 'Log records rejected (reported in partial_success).', registers: [registry] }),
  rulesEvaluated: new Counter({ name: 'otel_sigma_rule_evaluations_total', help: 'Rule evaluations performed (after logsource routing).', registers: [registry] }),
  // rule_id is bounded by the ruleset (a few thousand at most, and only rules that fire appear).
  detections: new Counter({ name: 'otel_sigma_detections_total', help: 'Detections produced, by rule and level.', labelNames: ['rule_id', 'level'] as const, registers: [registry] }),
  alertsRaised: new Counter({ name: 'otel_sigma_alerts_raised_total', help: 'New alerts (not folded into an open one), by rule and level.', labelNames: ['rule_id', 'level'] as const, registers: [registry] }),
  errors: new Counter({ name: 'otel_sigma_errors_total', help: 'Errors by pipeline stage and stable error code.', labelNames: ['stage', 'code'] as const, registers: [registry] }),
  queueDepth: new Gauge({ name: 'otel_sigma_queue_depth', help: 'Items waiting in a bounded queue.', labelNames: ['queue'] as const, registers: [registry] }),
  storeInsertSeconds: new Histogram({ name: 'otel_sigma_store_insert_seconds', help: 'ClickHouse insert latency.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
  storeRows: new Counter({ name: 'otel_sigma_store_rows_total', help: 'Detection rows written to ClickHouse.', registers: [registry] }),
  storeFailures: new Counter({ name: 'otel_sigma_store_failures_total', help: 'Failed ClickHouse inserts, by retryability.', labelNames: ['retryable'] as const, registers: [registry] }),
  storeDurableSeconds: new Histogram({ name: 'otel_sigma_store_durable_seconds', help: 'From receipt of a request to its detections being durable (fdatasync in the detection log).', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
  storeLagSeconds: new Gauge({ name: 'otel_sigma_store_lag_seconds', help: 'Age of the oldest detection batch in the detection log not yet inserted into ClickHouse (0 when caught up).', registers: [registry] }),
  storeDuplicates: new Counter({ name: 'otel_sigma_store_duplicates_total', help: 'Detections not stored again because the same (rule, record) was stored moments ago (a sender retrying an answered request, or identical records).', registers: [registry] }),
  storeTruncated: new Counter({ name: 'otel_sigma_store_truncated_total', help: 'Detection or event rows stored with a value cut to storage.max_value_bytes (flagged in the row).', registers: [registry] }),
  storeDeadLetter: new Counter({ name: 'otel_sigma_store_dead_letter_total', help: 'Rows ClickHouse refused as bad data, moved to <log_dir>/dead-letter/.', registers: [registry] }),
  walBytes: new Gauge({ name: 'otel_sigma_wal_bytes', help: 'Bytes in a durable log not yet consumed, by log.', labelNames: ['log'] as const, registers: [registry] }),
  walRecords: new Gauge({ name: 'otel_sigma_wal_records', help: 'Records in a durable log not yet consumed, by log.', labelNames: ['log'] as const, registers: [registry] }),
  walCommits: new Counter({ name: 'otel_sigma_wal_commits_total', help: 'Group commits (one write + fdatasync covering every append that arrived meanwhile), by log.', labelNames: ['log'] as const, registers: [registry] }),
  walAppends: new Counter({ name: 'otel_sigma_wal_appends_total', help: 'Records made durable, by log.', labelNames: ['log'] as const, registers: [registry] }),
  walFsyncSeconds: new Histogram({ name: 'otel_sigma_wal_fsync_seconds', help: 'Write + fdatasync time of one group commit, by log.', labelNames: ['log'] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] }),
  walFailures: new Counter({ name: 'otel_sigma_wal_failures_total', help: 'Appends refused, by log and reason (full, disk, closed).', labelNames: ['log', 'reason'] as const, registers: [registry] }),
  walDropped: new Counter({ name: 'otel_sigma_wal_dropped_total', help: 'Records a drop-oldest log discarded to stay within its bound, by log.', labelNames: ['log'] as const, registers: [registry] }),
  walTornBytes: new Counter({ name: 'otel_sigma_wal_torn_bytes_total', help: 'Bytes of torn or corrupt tails cut off at recovery (never an acknowledged record), by log.', labelNames: ['log'] as const, registers: [registry] }),
  alertsSent: new Counter({ name: 'otel_sigma_alerts_total', help: 'Alerts handed to Keep (or the log), by outcome.', labelNames: ['outcome'] as const, registers: [registry] }),
  memoryRss: new Gauge({ name: 'otel_sigma_memory_rss_bytes', help: 'Resident memory as the memory limiter last sampled it.', registers: [registry] }),
  uploadsCut: new Counter({ name: 'otel_sigma_uploads_cut_total', help: 'Requests ended while their body (HTTP) or message (gRPC) was still arriving: stalled past the receive timeout, or over the budget of bytes being received on the port.', labelNames: ['transport', 'reason'] as const, registers: [registry] }),
  connectionsRefused: new Counter({ name: 'otel_sigma_connections_refused_total', help: 'Connections closed by the receiver before any request: on arrival because the port already had receiver.max_connections open (reason cap), or silent 10 s after opening (reason silent, gRPC port).', labelNames: ['transport', 'reason'] as const, registers: [registry] }),
  memoryRefusals: new Counter({ name: 'otel_sigma_memory_limit_refusals_total', help: 'Requests refused because memory was above receiver.memory_limit_mib.', registers: [registry] }),
  detectionsDropped: new Counter({ name: 'otel_sigma_detections_dropped_total', help: 'Detections over the per-record (64) or per-request (20,000) bounds, not stored (reported in partial_success).', registers: [registry] }),
  correlationsFired: new Counter({ name: 'otel_sigma_correlations_fired_total', help: 'Correlation windows that fired (each is a detection row).', registers: [registry] }),
  correlationGroups: new Gauge({ name: 'otel_sigma_correlation_groups', help: 'Open correlation groups held in memory.', registers: [registry] }),
  correlationPending: new Gauge({ name: 'otel_sigma_correlation_pending_events', help: 'Base-rule matches held in open correlation groups.', registers: [registry] }),
  correlationLate: new Counter({ name: 'otel_sigma_correlation_late_total', help: 'Base-rule matches that arrived later than correlation.lateness_ms behind their group, by outcome (accepted into an open window, dropped).', labelNames: ['outcome'] as const, registers: [registry] }),
  correlationEvicted: new Counter({ name: 'otel_sigma_correlation_evicted_total', help: 'Correlation groups or pending matches evicted by the state caps.', registers: [registry] }),
  correlationReplayed: new Counter({ name: 'otel_sigma_correlation_replayed_total', help: 'Fired correlation windows not emitted because another leader (or this one before a restart) already did.', registers: [registry] }),
  correlationSnapshotSeconds: new Histogram({ name: 'otel_sigma_correlation_snapshot_seconds', help: 'Time to write one correlation state snapshot.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
  rulesLoaded: new Gauge({ name: 'otel_sigma_rules_loaded', help: 'Rules in the active ruleset.', registers: [registry] }),
};
