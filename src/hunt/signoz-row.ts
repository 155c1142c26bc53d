/**
 * A row of SigNoz's `logs_v2` turned back into the LogRecordView the stream would have decoded, so
 * hunting maps and evaluates it with the very same code. SigNoz's exporter stores a map body as its
 * JSON text (`Value.AsString()`), and splits attributes by type into three maps; both are undone here.
 */
import type { AnyValue, Attributes, LogRecordView } from '../decode/types.ts';
import { decodeJsonColumns, UnreadableBody } from './json-binary.ts';

/** The columns hunting reads (JSONEachRow: UInt64 arrive as decimal strings). */
export interface SignozRow {
  readonly ts_bucket_start: string;
  readonly resource_fingerprint: string;
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
  /** body_json_enabled layout, when `body` is empty: body_v2 (and body_promoted) in binary, base64 (json-binary.ts); else ''. */
  readonly body_bin?: string;
  /** The hunt's tag: 1 when some narrowed rule's condition accepts the row (only read with unfiltered rules). */
  readonly sigma_hit?: number;
}

export const SIGNOZ_COLUMNS = [
  'ts_bucket_start', 'resource_fingerprint', 'timestamp', 'observed_timestamp', 'id', 'trace_id', 'span_id', 'trace_flags', 'severity_text',
  'severity_number', 'body', 'attributes_string', 'attributes_number', 'attributes_bool', 'resources_string', 'scope_name', 'scope_version',
] as const;

/**
 * The extra column for SigNoz's body_json_enabled layout (map body in the JSON-typed body_v2, `body`
 * empty): the server's time zone and the JSON columns, cast to Dynamic so they carry their types, as
 * RowBinary (see json-binary.ts for why not toString).
 */
export function bodyBinaryColumn(promoted: boolean): string {
  return `if(body = '', base64Encode(formatRowNoNewline('RowBinary', timezone(), body_v2::Dynamic${promoted ? ', body_promoted::Dynamic' : ''})), '') AS body_bin`;
}

/**
 * A body_v2 map as the record's map body: ClickHouse's JSON type gives it back with paths sorted, nulls
 * and empty objects dropped, dotted keys nested, and its typed path `message` always present (so a
 * body that is only `{"message": ""}` was an empty one); promoted paths are merged back in.
 */
export function bodyFromJsonColumns(bin: string): AnyValue {
  const { body, promoted } = decodeJsonColumns(bin);
  if (promoted !== undefined) mergeInto(body, promoted);
  const keys = Object.keys(body);
  if (keys.length === 1 && keys[0] === 'message' && body['message'] === '') return null;
  return body;
}

function mergeInto(into: Record<string, unknown>, from: Readonly<Record<string, unknown>>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (isObject(cur) && isObject(v)) mergeInto(cur, v);
    else into[k] = v;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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
    body: row.body !== '' ? bodyFromText(row.body) : row.body_bin !== undefined && row.body_bin !== '' ? bodyFromJsonColumns(row.body_bin) : null,
    attributes,
    traceId: row.trace_id,
    spanId: row.span_id,
    flags: row.trace_flags,
    eventName: '',
    resource: { attributes: resource },
    scope: { name: row.scope_name, version: row.scope_version },
  };
}

/** rowToRecord, or undefined for a row whose body_v2 the binary reader cannot read (the caller counts it). */
export function readableRecord(row: SignozRow): LogRecordView | undefined {
  try {
    return rowToRecord(row);
  } catch (err) {
    if (err instanceof UnreadableBody) return undefined;
    throw err;
  }
}
