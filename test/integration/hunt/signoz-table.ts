/**
 * SigNoz's logs table in the embedded ClickHouse, filled the way SigNoz's clickhouselogsexporter
 * writes it: timestamp/observed_timestamp in ns, 1800 s ts_bucket_start, a KSUID-like id, body as
 * `Value.AsString()` (a map body becomes Go's JSON of it, keys sorted; the raw shape's XML stays a string), int and
 * double attributes in attributes_number, bools in attributes_bool, the rest in attributes_string.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { AnyValue, LogRecordView } from '../../../src/decode/types.ts';

const DDL = readFileSync(join(import.meta.dirname, '../../fixtures/signoz/logs_v2.sql'), 'utf8').replace(/^--.*$/gm, '');

export async function createLogsTable(client: ClickHouseClient, table = 'signoz_logs.logs_v2'): Promise<void> {
  const db = table.split('.')[0]!;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({ query: DDL.replace('signoz_logs.logs_v2', table) });
}

let seq = 0;
/** 27 characters, sortable by time like a KSUID; unique within the process. */
export function ksuidLike(tsNs: bigint): string {
  const secs = (tsNs / 1_000_000_000n).toString(36).padStart(8, '0');
  return `${secs}${(seq++).toString(36).padStart(8, '0')}${process.pid.toString(36).padStart(11, '0')}`.slice(0, 27);
}

/**
 * pdata's `Value.AsString()`: a string as it is, anything else as Go's `json.Marshal` writes it, which sorts
 * map keys (by bytes) and escapes `<`, `>`, `&`, U+2028 and U+2029.
 */
const asString = (v: AnyValue): string => (typeof v === 'string' ? v : goJson(v));

function goJson(v: AnyValue): string {
  if (v === null || typeof v !== 'object') return escapeLikeGo(JSON.stringify(v));
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${escapeLikeGo(JSON.stringify(k))}:${goJson(v[k]!)}`).join(',')}}`;
}

const escapeLikeGo = (json: string): string =>
  json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export interface StoredRow {
  readonly id: string;
  readonly [column: string]: unknown;
}

/** The row SigNoz would store for this record (`timestampNs` overrides the record's own time). */
export function signozRow(r: LogRecordView, timestampNs?: bigint): StoredRow {
  const ts = timestampNs ?? BigInt(r.timeUnixNano !== '0' ? r.timeUnixNano : r.observedTimeUnixNano);
  const attributes_string: Record<string, string> = {};
  const attributes_number: Record<string, number> = {};
  const attributes_bool: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(r.attributes)) {
    if (typeof v === 'number') attributes_number[k] = v;
    else if (typeof v === 'boolean') attributes_bool[k] = v;
    else attributes_string[k] = asString(v);
  }
  const resources_string: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.resource.attributes)) resources_string[k] = asString(v);
  return {
    ts_bucket_start: String((ts / 1_000_000_000n / 1800n) * 1800n),
    resource_fingerprint: Object.entries(resources_string).map(([k, v]) => `${k}=${v}`).join(';'),
    timestamp: String(ts),
    observed_timestamp: r.observedTimeUnixNano,
    id: ksuidLike(ts),
    trace_id: r.traceId,
    span_id: r.spanId,
    trace_flags: r.flags,
    severity_text: r.severityText,
    severity_number: r.severityNumber,
    body: r.body === null ? '' : asString(r.body),
    attributes_string,
    attributes_number,
    attributes_bool,
    resources_string,
    scope_name: r.scope.name,
    scope_version: r.scope.version,
    // The corpus was recorded months ago: with SigNoz's default 15 days the table's TTL would drop it at once.
    _retention_days: 3650,
  };
}

export async function insertRows(client: ClickHouseClient, rows: readonly StoredRow[], table = 'signoz_logs.logs_v2'): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await client.insert({ table, values: rows.slice(i, i + 5000), format: 'JSONEachRow' });
  }
}
