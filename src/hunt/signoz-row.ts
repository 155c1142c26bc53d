/**
 * A row of SigNoz's `logs_v2` turned back into the LogRecordView the stream would have decoded, so
 * hunting maps and evaluates it with the very same code. SigNoz's exporter stores a map body as its
 * JSON text (`Value.AsString()`), and splits attributes by type into three maps; both are undone here.
 */
import type { AnyValue, Attributes, LogRecordView } from '../decode/types.ts';

/** The columns hunting reads (JSONEachRow: UInt64 arrive as decimal strings). */
export interface SignozRow {
  readonly ts_bucket_start: string;
  readonly timestamp: string;
  readonly observed_timestamp: string;
  readonly id: string;
  readonly trace_id: string;
  readonly span_id: string;
  readonly trace_flags: number;
  readonly severity_text: string;
  readonly severity_number: number;
  readonly body: string;
  readonly attributes_string: Readonly<Record<string, string>>;
  readonly attributes_number: Readonly<Record<string, number | string>>;
  readonly attributes_bool: Readonly<Record<string, boolean>>;
  readonly resources_string: Readonly<Record<string, string>>;
  readonly scope_name: string;
  readonly scope_version: string;
}

export const SIGNOZ_COLUMNS = [
  'ts_bucket_start', 'timestamp', 'observed_timestamp', 'id', 'trace_id', 'span_id', 'trace_flags', 'severity_text',
  'severity_number', 'body', 'attributes_string', 'attributes_number', 'attributes_bool', 'resources_string', 'scope_name', 'scope_version',
] as const;

/** A JSON-text body that parses to an object becomes the map it was; anything else stays the string. */
export function bodyFromText(text: string): AnyValue {
  const c = text.charCodeAt(0);
  if (c !== 0x7b /* { */) return text;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as AnyValue) : text;
  } catch {
    return text;
  }
}

export function rowToRecord(row: SignozRow): LogRecordView {
  const attributes: Attributes = {};
  for (const k in row.attributes_string) attributes[k] = row.attributes_string[k] ?? '';
  for (const k in row.attributes_number) {
    const v = row.attributes_number[k];
    // ClickHouse writes inf/nan as strings; keep them as the text they are.
    attributes[k] = typeof v === 'number' ? v : String(v);
  }
  for (const k in row.attributes_bool) attributes[k] = row.attributes_bool[k] === true;
  const resource: Attributes = {};
  for (const k in row.resources_string) resource[k] = row.resources_string[k] ?? '';
  return {
    timeUnixNano: row.timestamp,
    observedTimeUnixNano: row.observed_timestamp,
    severityNumber: row.severity_number,
    severityText: row.severity_text,
    body: row.body === '' ? null : bodyFromText(row.body),
    attributes,
    traceId: row.trace_id,
    spanId: row.span_id,
    flags: row.trace_flags,
    eventName: '',
    resource: { attributes: resource },
    scope: { name: row.scope_name, version: row.scope_version },
  };
}
