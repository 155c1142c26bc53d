/**
 * Detection (what the pipeline produces) ⇄ table row (what ClickHouse stores). Insert rows go out
 * as JSONEachRow; timestamps are sent as UTC text so nanoseconds survive (a JS number cannot hold
 * epoch nanoseconds) and the server timezone never matters (the columns are declared 'UTC').
 */
import type { Detection, DetectionSource } from '../detect/detection.ts';

/** A stored detection as the query helper returns it: column name → value. */
export interface DetectionRow {
  /** `YYYY-MM-DD hh:mm:ss.nnnnnnnnn`, UTC. */
  event_time: string;
  /** `YYYY-MM-DD hh:mm:ss.mmm`, UTC. */
  detected_at: string;
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
  sigma_event: string;
  body: string;
  log_attributes: Record<string, string>;
  resource_attributes: Record<string, string>;
  severity_text: string;
  severity_number: number;
  trace_id: string;
  span_id: string;
  fingerprint: string;
  source: DetectionSource;
}

/** Column order of the table, for SELECTs that name every column. */
export const DETECTION_COLUMNS: readonly (keyof DetectionRow)[] = [
  'event_time', 'detected_at', 'rule_id', 'rule_title', 'rule_level', 'rule_status', 'rule_tags',
  'product', 'category', 'service', 'host', 'matched', 'sigma_event', 'body', 'log_attributes',
  'resource_attributes', 'severity_text', 'severity_number', 'trace_id', 'span_id', 'fingerprint', 'source',
];

const DIGITS = /^\d+$/;

/** Epoch nanoseconds (decimal string) → `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` UTC. Not a number → epoch 0. */
export function formatEpochNs(ns: string): string {
  if (!DIGITS.test(ns)) return '1970-01-01 00:00:00.000000000';
  const padded = ns.length > 9 ? ns : ns.padStart(10, '0');
  const seconds = Number(padded.slice(0, -9));
  return `${isoSeconds(seconds * 1000)}.${padded.slice(-9)}`;
}

/** Epoch milliseconds → `YYYY-MM-DD hh:mm:ss.mmm` UTC. */
export function formatEpochMs(ms: number): string {
  const whole = Number.isFinite(ms) && ms >= 0 ? Math.trunc(ms) : 0;
  return `${isoSeconds(whole - (whole % 1000))}.${String(whole % 1000).padStart(3, '0')}`;
}

function isoSeconds(ms: number): string {
  const d = new Date(ms);
  // DateTime64(9) ends in 2262; a later (or absurd) time is clamped rather than failing the batch.
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() > 2261) return '2261-12-31 23:59:59';
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Lone UTF-16 surrogates become U+FFFD: JSON.stringify escapes them as `\udXXX`, which ClickHouse
 * refuses (CANNOT_PARSE_ESCAPE_SEQUENCE) — one such string would fail the whole batch.
 */
const wf = (s: string): string => (s.isWellFormed() ? s : s.toWellFormed());

function wfMap(m: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in m) out[wf(k)] = wf(String(m[k]));
  return out;
}

export function toInsertRow(d: Detection): DetectionRow {
  return {
    event_time: formatEpochNs(d.eventTimeNs),
    detected_at: formatEpochMs(d.detectedAtMs),
    rule_id: wf(d.ruleId),
    rule_title: wf(d.ruleTitle),
    rule_level: d.ruleLevel,
    rule_status: wf(d.ruleStatus),
    rule_tags: d.ruleTags.map(wf),
    product: wf(d.product),
    category: wf(d.category),
    service: wf(d.service),
    host: wf(d.host),
    matched: wfMap(d.matched),
    sigma_event: wf(d.sigmaEvent),
    body: wf(d.body),
    log_attributes: wfMap(d.logAttributes),
    resource_attributes: wfMap(d.resourceAttributes),
    severity_text: wf(d.severityText),
    // UInt8 column: OTLP severity is 0–24; anything else is clamped rather than failing the batch.
    severity_number: Math.min(255, Math.max(0, Math.trunc(d.severityNumber) || 0)),
    trace_id: d.traceId,
    span_id: d.spanId,
    fingerprint: d.fingerprint,
    source: d.source,
  };
}
