/**
 * Keep's AlertDto as otel-sigma sends it (`POST /alerts/event`, keep/api/models/alert.py; see
 * shared docs wire-formats.md §D). Keep's model allows extra keys; the only extra we send is
 * `occurrences`, the number of detections folded into this alert by the dedup window.
 */

export const KEEP_STATUSES = ['firing', 'resolved', 'acknowledged', 'suppressed', 'pending', 'maintenance'] as const;
export type KeepAlertStatus = (typeof KEEP_STATUSES)[number];

export const KEEP_SEVERITIES = ['critical', 'high', 'warning', 'info', 'low'] as const;
export type KeepSeverity = (typeof KEEP_SEVERITIES)[number];

export const KEEP_DESCRIPTION_FORMATS = ['markdown', 'html'] as const;
export type KeepDescriptionFormat = (typeof KEEP_DESCRIPTION_FORMATS)[number];

/** Keep truncates longer fingerprints silently; we keep ours within the limit ourselves. */
export const KEEP_MAX_FINGERPRINT = 255;

export interface AlertDto {
  /** Stable per alert group (equals `fingerprint`) so Keep can recognise full duplicates. */
  readonly id: string;
  readonly name: string;
  readonly status: KeepAlertStatus;
  readonly severity: KeepSeverity;
  /** ISO-8601 UTC: when otel-sigma last saw a detection for this alert. */
  readonly lastReceived: string;
  /** ISO-8601 UTC: event time of the first detection in this alert. */
  readonly firingStartTime: string;
  readonly fingerprint: string;
  readonly source: readonly string[];
  readonly service?: string;
  readonly environment?: string;
  readonly message: string;
  readonly description: string;
  readonly description_format: KeepDescriptionFormat;
  /** Absolute http(s) URL; absent when no template is configured. */
  readonly url?: string;
  /** Keep filters and groups on labels; every value is a string. */
  readonly labels: Readonly<Record<string, string>>;
  /** Extra key (Keep keeps unknown keys): detections folded into this alert. */
  readonly occurrences: number;
}
