/**
 * Detection (what the pipeline produces) → table rows (what ClickHouse stores): one row per
 * detection in `<table>` and one per triggering record in `<table>_events`. Rows are JSONEachRow;
 * timestamps are sent as UTC text so nanoseconds survive (a JS number cannot hold epoch
 * nanoseconds) and the server timezone never matters (the columns are declared 'UTC').
 */
import type { DetectedEvent, Detection, DetectionSource } from '../detect/detection.ts';

/** A stored detection as the query helper returns it: column name → value. */
export interface DetectionRow {
  /** `YYYY-MM-DD hh:mm:ss.mmm`, UTC. */
  detected_at: string;
  /** `YYYY-MM-DD hh:mm:ss.nnnnnnnnn`, UTC. */
  event_time: string;
  rule_id: string;
  rule_title: string;
  rule_level: string;
  rule_status: string;
  rule_tags: string[];
  product: string;
  category: string;
  service: string;
  host: string;
  matched: Record<string, string>;
  event_id: string;
  fingerprint: string;
  source: DetectionSource;
  correlation_type: string;
  correlation_group: Record<string, string>;
  window_start: string;
  window_end: string;
  correlation_value: number;
  contributing: string[];
  /** 1 when a value was cut to storage.max_value_bytes. */
  truncated: number;
  /** 1 when event_time is implausible (see implausibleEventTime); the time is stored as sent all the same. */
  event_time_implausible: number;
}

/** A stored triggering record, once per record however many rules fired on it. */
export interface EventRow {
  event_id: string;
  detected_at: string;
  event_time: string;
  host: string;
  sigma_event: string;
  body: string;
  log_attributes: Record<string, string>;
  resource_attributes: Record<string, string>;
  severity_text: string;
  severity_number: number;
  trace_id: string;
  span_id: string;
  truncated: number;
}

/** Column order of the detections table, for SELECTs that name every column. */
export const DETECTION_COLUMNS: readonly (keyof DetectionRow)[] = [
  'detected_at', 'event_time', 'rule_id', 'rule_title', 'rule_level', 'rule_status', 'rule_tags', 'product', 'category',
  'service', 'host', 'matched', 'event_id', 'fingerprint', 'source', 'correlation_type', 'correlation_group',
  'window_start', 'window_end', 'correlation_value', 'contributing', 'truncated', 'event_time_implausible',
];

export const EVENT_COLUMNS: readonly (keyof EventRow)[] = [
  'event_id', 'detected_at', 'event_time', 'host', 'sigma_event', 'body', 'log_attributes', 'resource_attributes',
  'severity_text', 'severity_number', 'trace_id', 'span_id', 'truncated',
];

const DIGITS = /^\d+$/;

/** Event times before 1990 are implausible for a live log: an unset clock, epoch 0, or a sender's choice. */
export const PLAUSIBLE_SINCE_MS = Date.UTC(1990, 0, 1);
/** So are times more than a day ahead of the server's clock (time zones and clock skew stay well inside it). */
export const PLAUSIBLE_AHEAD_MS = 24 * 3600 * 1000;

/**
 * Whether a record's time (epoch ns, decimal) is implausible next to when it was evaluated. Such a record
 * is kept, with its time as sent, and flagged, so an analyst can tell a sender's bad clock (or a forged
 * time) from when things happened; storage layout never depends on it (partitions follow detected_at).
 */
export function implausibleEventTime(eventTimeNs: string, detectedAtMs: number): boolean {
  if (!DIGITS.test(eventTimeNs)) return true;
  const ms = eventTimeNs.length > 6 ? Number(eventTimeNs.slice(0, -6)) : 0;
  return ms < PLAUSIBLE_SINCE_MS || ms > detectedAtMs + PLAUSIBLE_AHEAD_MS;
}

/** Epoch nanoseconds (decimal string) → `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` UTC. Not a number → epoch 0. */
export function formatEpochNs(ns: string): string {
  if (!DIGITS.test(ns)) return '1970-01-01 00:00:00.000000000';
  const padded = ns.length > 9 ? ns : ns.padStart(10, '0');
  const seconds = Number(padded.slice(0, -9));
  const whole = isoSeconds(seconds * 1000);
  return whole === MAX_TIME ? `${MAX_TIME}.000000000` : `${whole}.${padded.slice(-9)}`;
}

/** Epoch milliseconds → `YYYY-MM-DD hh:mm:ss.mmm` UTC. */
export function formatEpochMs(ms: number): string {
  const whole = Number.isFinite(ms) && ms >= 0 ? Math.trunc(ms) : 0;
  return `${isoSeconds(whole - (whole % 1000))}.${String(whole % 1000).padStart(3, '0')}`;
}

const MAX_TIME = '2261-12-31 23:59:59';

/** The last few seconds formatted: a batch's rows share detected_at, and every row but a correlation's has window 0. */
const recentSeconds = new Map<number, string>();

function isoSeconds(ms: number): string {
  const hit = recentSeconds.get(ms);
  if (hit !== undefined) return hit;
  const d = new Date(ms);
  // DateTime64(9) ends in 2262; a later (or absurd) time is clamped rather than failing the batch.
  const text = Number.isNaN(d.getTime()) || d.getUTCFullYear() > 2261 ? MAX_TIME : d.toISOString().slice(0, 19).replace('T', ' ');
  if (recentSeconds.size >= 8) recentSeconds.clear();
  recentSeconds.set(ms, text);
  return text;
}

/**
 * Cuts oversize values (a 50 MB command line would make ClickHouse refuse the whole batch) and
 * repairs lone UTF-16 surrogates, which JSON.stringify escapes as `\udXXX` and ClickHouse refuses
 * (CANNOT_PARSE_ESCAPE_SEQUENCE). `cut` counts the values shortened.
 */
export class ValueLimit {
  readonly #maxBytes: number;
  cut = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  str(s: string): string {
    const t = s.isWellFormed() ? s : s.toWellFormed();
    // UTF-8 is at most 3 bytes per UTF-16 unit: only long strings need measuring.
    if (t.length * 3 <= this.#maxBytes || Buffer.byteLength(t) <= this.#maxBytes) return t;
    this.cut++;
    const cutAt = Buffer.from(t).subarray(0, this.#maxBytes).toString('utf8');
    // toString replaces a split last character with U+FFFD; drop it.
    return cutAt.endsWith('\uFFFD') ? cutAt.slice(0, -1) : cutAt;
  }

  map(m: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k in m) out[this.str(k)] = this.str(String(m[k]));
    return out;
  }
}

export function toDetectionRow(d: Detection, limit: ValueLimit): DetectionRow {
  const before = limit.cut;
  const c = d.correlation;
  const row: DetectionRow = {
    detected_at: formatEpochMs(d.detectedAtMs),
    event_time: formatEpochNs(d.eventTimeNs),
    rule_id: limit.str(d.ruleId),
    rule_title: limit.str(d.ruleTitle),
    rule_level: d.ruleLevel,
    rule_status: limit.str(d.ruleStatus),
    rule_tags: d.ruleTags.map((t) => limit.str(t)),
    product: limit.str(d.product),
    category: limit.str(d.category),
    service: limit.str(d.service),
    host: limit.str(d.host),
    matched: limit.map(d.matched),
    event_id: d.event.id,
    fingerprint: d.fingerprint,
    source: d.source,
    correlation_type: c?.type ?? '',
    correlation_group: c ? limit.map(c.group) : {},
    window_start: formatEpochNs(c?.windowStartNs ?? '0'),
    window_end: formatEpochNs(c?.windowEndNs ?? '0'),
    correlation_value: c && Number.isFinite(c.value) ? c.value : 0,
    contributing: c ? [...c.contributing] : [],
    truncated: 0,
    event_time_implausible: implausibleEventTime(d.eventTimeNs, d.detectedAtMs) ? 1 : 0,
  };
  if (limit.cut > before) row.truncated = 1;
  return row;
}

/** `storeBody` false leaves `body` empty (storage.store_body): the Sigma event carries the record's values. */
export function toEventRow(e: DetectedEvent, detectedAtMs: number, limit: ValueLimit, storeBody = true): EventRow {
  const before = limit.cut;
  const row: EventRow = {
    event_id: e.id,
    detected_at: formatEpochMs(detectedAtMs),
    event_time: formatEpochNs(e.timeNs),
    host: limit.str(e.host),
    sigma_event: limit.str(e.sigmaEvent),
    body: storeBody ? limit.str(e.body) : '',
    log_attributes: limit.map(e.logAttributes),
    resource_attributes: limit.map(e.resourceAttributes),
    severity_text: limit.str(e.severityText),
    // UInt8 column: OTLP severity is 0–24; anything else is clamped rather than failing the batch.
    severity_number: Math.min(255, Math.max(0, Math.trunc(e.severityNumber) || 0)),
    trace_id: e.traceId,
    span_id: e.spanId,
    truncated: 0,
  };
  if (limit.cut > before) row.truncated = 1;
  return row;
}
