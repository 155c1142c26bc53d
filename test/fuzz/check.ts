/**
 * The fuzz property for one request, shared by the short and the long fuzz: the real decoder returns a
 * DecodedRequest of plain data or throws a PipelineError with a decode-stage code, never anything else;
 * the real mapper then maps the records without throwing; each step finishes within its time bound.
 */
import { decodeExport, type RawExport } from '../../src/decode/export-request.ts';
import type { AnyValue, DecodedRequest } from '../../src/decode/types.ts';
import { ErrorCode, isPipelineError } from '../../src/errors.ts';
import type { RecordMapper } from '../../src/map/types.ts';

export const DECODE_CODES: ReadonlySet<string> = new Set([ErrorCode.DECODE, ErrorCode.DECOMPRESS, ErrorCode.TOO_LARGE]);

export class FuzzFailure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FuzzFailure';
  }
}

export interface CaseResult {
  /** The decode error code, or undefined when the request decoded. */
  readonly code: string | undefined;
  readonly records: number;
  readonly decodeMs: number;
  readonly mapMs: number;
}

export function runCase(raw: RawExport, maxBytes: number, mapper: RecordMapper | undefined, maxMs: number): CaseResult {
  const t0 = performance.now();
  let decoded: DecodedRequest;
  try {
    decoded = decodeExport(raw, maxBytes);
  } catch (err) {
    const decodeMs = performance.now() - t0;
    if (!isPipelineError(err) || !DECODE_CODES.has(err.code)) {
      throw new FuzzFailure(`decodeExport threw ${isPipelineError(err) ? `PipelineError(${err.code})` : String(err)}`, { cause: err });
    }
    if (err.retryable) throw new FuzzFailure(`decode error ${err.code} marked retryable`);
    if (decodeMs > maxMs) throw new FuzzFailure(`decodeExport took ${decodeMs.toFixed(0)} ms to refuse`);
    return { code: err.code, records: 0, decodeMs, mapMs: 0 };
  }
  const decodeMs = performance.now() - t0;
  if (decodeMs > maxMs) throw new FuzzFailure(`decodeExport took ${decodeMs.toFixed(0)} ms`);
  if (!Array.isArray(decoded.records)) throw new FuzzFailure('records is not an array');
  for (const r of decoded.records) {
    assertPlain(r.attributes, 'attributes', 0);
    assertPlain(r.resource.attributes, 'resource.attributes', 0);
    assertPlain(r.body, 'body', 0);
    if (typeof r.timeUnixNano !== 'string' || !/^\d+$/.test(r.timeUnixNano)) throw new FuzzFailure(`timeUnixNano ${JSON.stringify(r.timeUnixNano)}`);
    if (!/^[0-9a-f]*$/.test(r.traceId) || !/^[0-9a-f]*$/.test(r.spanId)) throw new FuzzFailure('trace/span id not lowercase hex');
  }
  const t1 = performance.now();
  if (mapper !== undefined) {
    let events;
    try {
      events = mapper.map(decoded.records);
    } catch (err) {
      throw new FuzzFailure(`mapper threw ${String(err)}`, { cause: err });
    }
    if (!Array.isArray(events)) throw new FuzzFailure('mapper returned no array');
    for (const e of events) {
      if (typeof e.event.meta.source !== 'string' || typeof e.event.fields !== 'object') throw new FuzzFailure('malformed mapped event');
    }
  }
  const mapMs = performance.now() - t1;
  if (mapMs > maxMs) throw new FuzzFailure(`mapping ${decoded.records.length} records took ${mapMs.toFixed(0)} ms`);
  return { code: undefined, records: decoded.records.length, decodeMs, mapMs };
}

/** Decoded values are plain JSON-like data: no object may carry a prototype other than Object's or Array's. */
function assertPlain(v: AnyValue, where: string, depth: number): void {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return;
    throw new FuzzFailure(`${where}: unexpected ${typeof v}`);
  }
  if (depth > 70) throw new FuzzFailure(`${where}: nested deeper than the decoder allows`);
  const proto: unknown = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    if (proto !== Array.prototype) throw new FuzzFailure(`${where}: array with a foreign prototype`);
    for (const x of v) assertPlain(x, where, depth + 1);
    return;
  }
  if (proto !== Object.prototype) throw new FuzzFailure(`${where}: object with a foreign prototype (a "__proto__" key was assigned?)`);
  for (const k of Object.keys(v)) assertPlain(v[k]!, `${where}.${k}`, depth + 1);
}
