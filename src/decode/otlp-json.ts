/**
 * ExportLogsServiceRequest in OTLP/JSON → DecodedRequest. Follows the OTLP JSON mapping: lowerCamelCase
 * keys (snake_case accepted too, as the collector does), int64 as strings or numbers, enums as integers,
 * trace/span ids as hex, bytes as base64, unknown fields ignored. Wrong types are refused with the path.
 */
import { ErrorCode, PipelineError } from '../errors.ts';
import { MAX_ANY_VALUE_DEPTH, setAttribute } from './otlp-protobuf.ts';
import type { AnyValue, Attributes, DecodedRequest, LogRecordView, ResourceView, ScopeView } from './types.ts';

type Obj = Record<string, unknown>;

export function decodeJsonRequest(input: Uint8Array | string): DecodedRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'));
  } catch (err) {
    throw new PipelineError(ErrorCode.DECODE, `invalid JSON: ${(err as Error).message}`, false, { cause: err });
  }
  return decodeJsonDocument(doc);
}

export function decodeJsonDocument(doc: unknown): DecodedRequest {
  const root = obj(doc, '$');
  const records: LogRecordView[] = [];
  const rls = arr(pick(root, 'resourceLogs', 'resource_logs'), '$.resourceLogs');
  rls.forEach((rlRaw, i) => {
    const p = `$.resourceLogs[${i}]`;
    const rl = obj(rlRaw, p);
    const resRaw = pick(rl, 'resource');
    const resource: ResourceView = { attributes: resRaw === undefined || resRaw === null ? {} : attrs(pick(obj(resRaw, `${p}.resource`), 'attributes'), `${p}.resource.attributes`) };
    arr(pick(rl, 'scopeLogs', 'scope_logs'), `${p}.scopeLogs`).forEach((slRaw, j) => {
      const sp = `${p}.scopeLogs[${j}]`;
      const sl = obj(slRaw, sp);
      const scopeRaw = pick(sl, 'scope');
      const scopeObj = scopeRaw === undefined || scopeRaw === null ? {} : obj(scopeRaw, `${sp}.scope`);
      const scope: ScopeView = { name: str(pick(scopeObj, 'name'), `${sp}.scope.name`), version: str(pick(scopeObj, 'version'), `${sp}.scope.version`) };
      arr(pick(sl, 'logRecords', 'log_records'), `${sp}.logRecords`).forEach((lrRaw, k) => {
        records.push(logRecord(obj(lrRaw, `${sp}.logRecords[${k}]`), `${sp}.logRecords[${k}]`, resource, scope));
      });
    });
  });
  return { records };
}

function logRecord(lr: Obj, p: string, resource: ResourceView, scope: ScopeView): LogRecordView {
  const bodyRaw = pick(lr, 'body');
  return {
    timeUnixNano: u64(pick(lr, 'timeUnixNano', 'time_unix_nano'), `${p}.timeUnixNano`),
    observedTimeUnixNano: u64(pick(lr, 'observedTimeUnixNano', 'observed_time_unix_nano'), `${p}.observedTimeUnixNano`),
    severityNumber: int32(pick(lr, 'severityNumber', 'severity_number'), `${p}.severityNumber`),
    severityText: str(pick(lr, 'severityText', 'severity_text'), `${p}.severityText`),
    body: bodyRaw === undefined || bodyRaw === null ? null : anyValue(bodyRaw, `${p}.body`, 0),
    attributes: attrs(pick(lr, 'attributes'), `${p}.attributes`),
    traceId: hexId(pick(lr, 'traceId', 'trace_id'), `${p}.traceId`),
    spanId: hexId(pick(lr, 'spanId', 'span_id'), `${p}.spanId`),
    flags: int32(pick(lr, 'flags'), `${p}.flags`) >>> 0,
    eventName: str(pick(lr, 'eventName', 'event_name'), `${p}.eventName`),
    resource,
    scope,
  };
}

function attrs(v: unknown, p: string, depth = 0): Attributes {
  const out: Attributes = {};
  arr(v, p).forEach((kvRaw, i) => {
    const kv = obj(kvRaw, `${p}[${i}]`);
    const val = pick(kv, 'value');
    setAttribute(out, str(pick(kv, 'key'), `${p}[${i}].key`), val === undefined || val === null ? null : anyValue(val, `${p}[${i}].value`, depth + 1));
  });
  return out;
}

function anyValue(v: unknown, p: string, depth: number): AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw bad(p, `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  const o = obj(v, p);
  let x: unknown;
  if ((x = pick(o, 'stringValue', 'string_value')) !== undefined) return str(x, `${p}.stringValue`);
  if ((x = pick(o, 'boolValue', 'bool_value')) !== undefined) {
    if (typeof x !== 'boolean') throw bad(`${p}.boolValue`, 'expected a boolean');
    return x;
  }
  if ((x = pick(o, 'intValue', 'int_value')) !== undefined) return int64(x, `${p}.intValue`);
  if ((x = pick(o, 'doubleValue', 'double_value')) !== undefined) {
    const n = typeof x === 'string' ? Number(x) : x;
    if (typeof n !== 'number' || (Number.isNaN(n) && x !== 'NaN')) throw bad(`${p}.doubleValue`, 'expected a number');
    return n;
  }
  if ((x = pick(o, 'arrayValue', 'array_value')) !== undefined) {
    const a = obj(x, `${p}.arrayValue`);
    const vals = pick(a, 'values');
    return vals === undefined ? [] : arr(vals, `${p}.arrayValue.values`).map((e, i) => anyValue(e, `${p}.arrayValue.values[${i}]`, depth + 1));
  }
  if ((x = pick(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
    const kl = obj(x, `${p}.kvlistValue`);
    return attrs(pick(kl, 'values'), `${p}.kvlistValue.values`, depth);
  }
  if ((x = pick(o, 'bytesValue', 'bytes_value')) !== undefined) return Buffer.from(str(x, `${p}.bytesValue`), 'base64').toString('hex');
  return null;
}

const pick = (o: Obj, camel: string, snake?: string): unknown => (o[camel] !== undefined ? o[camel] : snake === undefined ? undefined : o[snake]);

function obj(v: unknown, p: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(p, 'expected an object');
  return v as Obj;
}

function arr(v: unknown, p: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(p, 'expected an array');
  return v;
}

function str(v: unknown, p: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(p, 'expected a string');
  return v;
}

function int32(v: unknown, p: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(p, 'expected an integer');
  return n;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

// Out-of-range values are refused rather than wrapped: a wrapped number would be silently wrong.
function int64(v: unknown, p: string): number | string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) return v;
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    const b = BigInt(v);
    if (b >= INT64_MIN && b <= INT64_MAX) return b.toString();
  }
  throw bad(p, 'expected an int64 (decimal string or integer)');
}

function u64(v: unknown, p: string): string {
  if (v === undefined || v === null) return '0';
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 64) return BigInt(v).toString();
  if (typeof v === 'string' && /^\d{1,20}$/.test(v) && BigInt(v) <= UINT64_MAX) return BigInt(v).toString();
  throw bad(p, 'expected an unsigned int64 (decimal string or integer)');
}

function hexId(v: unknown, p: string): string {
  const s = str(v, p);
  if (s !== '' && !/^[0-9a-fA-F]*$/.test(s)) throw bad(p, 'expected a hex string');
  return s.toLowerCase();
}

const bad = (path: string, what: string): PipelineError => new PipelineError(ErrorCode.DECODE, `invalid OTLP/JSON at ${path}: ${what}`, false);
