/**
 * AlertSender's options (the lead maps the `alerts.*` config keys onto them; see README.md in this
 * folder) and its counters.
 */
import type { Logger } from 'pino';
import type { SigmaLevel } from '../detect/types.ts';
import type { RetryOptions } from './retry-policy.ts';

export interface AlertSenderOptions {
  /** Keep base URL (`https://keep.example`); without it alerts are logged. */
  readonly keepUrl?: string;
  readonly apiKey?: string;
  /** PEM CA bundle that signed an https:// Keep's certificate (alerts.keep_ca_file); system CAs otherwise. */
  readonly keepCa?: Buffer;
  /** Detections below this level are not alerted (they are still stored). */
  readonly minLevel: SigmaLevel;
  readonly environment?: string;
  readonly urlTemplate?: string;
  /** Fingerprint keys (alerts.group_by); default rule_id, host. */
  readonly groupBy?: readonly string[];
  /** In-memory queue bound (alerts) when there is no queueDir; also bounds staging. */
  readonly maxQueue: number;
  /** Per-request timeout. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Alerts per POST; default 100. */
  readonly maxBatch?: number;
  /** Repeats of a fingerprint within this window update one alert (alerts.dedup_window_s); default 300 000, 0 = off. */
  readonly dedupWindowMs?: number;
  /** How often grown counts are re-sent (and replica counts merged); default 30 000. */
  readonly dedupFlushMs?: number;
  /** Fingerprints remembered at once; default 10 000. */
  readonly maxTracked?: number;
  readonly retry?: Partial<RetryOptions>;
  /** On-disk queue directory (`<data_dir>/alert-queue`); in memory when absent. */
  readonly queueDir?: string;
  /** Bound of the on-disk queue in bytes (alerts.queue_max_bytes); default 64 MiB. */
  readonly queueMaxBytes?: number;
  /** New alerts per throttle window (alerts.max_per_minute); default 100, 0 = no ceiling. */
  readonly maxPerWindow?: number;
  /** Throttle window; default 60 000 (tests shorten it). */
  readonly throttleWindowMs?: number;
  /** Redis URL (alerts.redis_url): dedup and throttle state shared by replicas. */
  readonly redisUrl?: string;
  /** Timeout of one Redis operation before falling back to local state; default 250. */
  readonly redisTimeoutMs?: number;
  /** How long ready() waits for the first Redis connection (storage.connect_timeout_s); default max(1 s, redisTimeoutMs). */
  readonly redisConnectTimeoutMs?: number;
  /** Send `resolved` when a fingerprint has been quiet this long (alerts.resolve_after_s); 0 = off. */
  readonly resolveAfterMs?: number;
}

export interface AlertSenderStats {
  /** Alerts staged or in the queue (including a batch in flight). */
  readonly queued: number;
  readonly sent: number;
  readonly logged: number;
  /** Pushed out by a queue bound, or sent after close(); counted into the digest where possible. */
  readonly dropped: number;
  readonly rejected: number;
  /** Left undelivered in the in-memory queue at shutdown. */
  readonly failed: number;
  readonly deduplicated: number;
  readonly retries: number;
  /** Held back by the ceiling (into the digest). */
  readonly throttled: number;
  readonly digests: number;
  readonly resolved: number;
  /** Older versions of an alert replaced by a newer one in the same batch. */
  readonly superseded: number;
  /** Redis operations answered from local state. */
  readonly sharedFallbacks: number;
}
