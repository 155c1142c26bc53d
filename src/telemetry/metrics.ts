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
  spoolBytes: new Gauge({ name: 'otel_sigma_spool_bytes', help: 'Bytes of detection batches spooled on disk while ClickHouse is unreachable.', registers: [registry] }),
  spoolBatches: new Gauge({ name: 'otel_sigma_spool_batches', help: 'Detection batches in the on-disk spool waiting to be replayed into ClickHouse.', registers: [registry] }),
  spoolAppended: new Counter({ name: 'otel_sigma_spool_appended_total', help: 'Detection batches written to the on-disk spool.', registers: [registry] }),
  spoolReplayed: new Counter({ name: 'otel_sigma_spool_replayed_total', help: 'Spooled detection batches replayed into ClickHouse (or dead-lettered) and removed from the spool.', registers: [registry] }),
  storeDeadLetter: new Counter({ name: 'otel_sigma_store_dead_letter_total', help: 'Detection rows ClickHouse refused as bad data, moved to <spool>/dead-letter/.', registers: [registry] }),
  alertsSent: new Counter({ name: 'otel_sigma_alerts_total', help: 'Alerts handed to Keep (or the log), by outcome.', labelNames: ['outcome'] as const, registers: [registry] }),
  memoryRss: new Gauge({ name: 'otel_sigma_memory_rss_bytes', help: 'Resident memory as the memory limiter last sampled it.', registers: [registry] }),
  memoryRefusals: new Counter({ name: 'otel_sigma_memory_limit_refusals_total', help: 'Requests refused because memory was above receiver.memory_limit_mib.', registers: [registry] }),
  rulesLoaded: new Gauge({ name: 'otel_sigma_rules_loaded', help: 'Rules in the active ruleset.', registers: [registry] }),
};
