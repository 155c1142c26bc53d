/**
 * Bounds on what one request and one record may hold, checked as each record is decoded, before it is
 * mapped or evaluated. A collector's batches never come near them; crafted input does: 2.5 million tiny
 * records in one 40 MB request, or one 52 MB command line, took a worker's heap to gigabytes (every
 * record, value and match is an object or a copy downstream). Over a bound the whole request is refused
 * with ERR_TOO_LARGE (HTTP 413, gRPC RESOURCE_EXHAUSTED without RetryInfo) naming it.
 */
import { ErrorCode, PipelineError } from '../errors.ts';
import protobuf from 'protobufjs/minimal.js';
import type { AnyValue, LogRecordView } from './types.ts';

export interface RecordLimits {
  /** receiver.max_records_per_request */
  readonly maxRecords: number;
  /** receiver.max_attributes_per_record: attributes, map entries and array elements of the record, at every level. */
  readonly maxAttributes: number;
  /** receiver.max_value_chars: the longest string value, in UTF-16 code units. */
  readonly maxValueChars: number;
}

export const DEFAULT_RECORD_LIMITS: RecordLimits = { maxRecords: 200_000, maxAttributes: 5_000, maxValueChars: 16 * 1024 * 1024 };

const { Reader } = protobuf;

const tooLarge = (what: string): PipelineError => new PipelineError(ErrorCode.TOO_LARGE, what, false);

/** Throws ERR_TOO_LARGE when the request's `n`-th record is one too many. */
export function checkRecordCount(n: number, limits: RecordLimits): void {
  if (n > limits.maxRecords) throw tooLarge(`more than ${limits.maxRecords} log records in one request (receiver.max_records_per_request); send smaller batches`);
}

/**
 * LogRecords in an encoded ExportLogsServiceRequest, counted from the message lengths alone (no string is
 * decoded), so a request of millions of tiny records is refused before any of them is mapped or evaluated.
 * A request it cannot walk counts 0: the decoder then reports what is wrong with it.
 */
export function countProtobufRecords(bytes: Uint8Array): number {
  let n = 0;
  // request.resource_logs (1) → ResourceLogs.scope_logs (2) → ScopeLogs.log_records (2): the message
  // fields to enter at each depth; everything else is skipped by its wire type.
  const enter = [1, 2];
  const walk = (r: protobuf.Reader, end: number, depth: number): void => {
    while (r.pos < end) {
      const tag = r.uint32();
      if ((tag & 7) !== 2) {
        r.skipType(tag & 7);
        continue;
      }
      const len = r.uint32();
      const stop = r.pos + len;
      if (stop > end) throw new RangeError('length past the end');
      if (depth === 2 && tag >>> 3 === 2) n++;
      if (depth < 2 && tag >>> 3 === enter[depth]) walk(r, stop, depth + 1);
      else r.pos = stop;
    }
    if (r.pos !== end) throw new RangeError('message overruns its length');
  };
  try {
    walk(Reader.create(bytes), bytes.length, 0);
    return n;
  } catch {
    return 0;
  }
}

/** Throws ERR_TOO_LARGE when the record has too many attributes or too long a value. */
export function checkRecord(rec: LogRecordView, limits: RecordLimits): void {
  const budget = { entries: limits.maxAttributes };
  visit(rec.attributes, budget, limits, 'attribute');
  visit(rec.body, budget, limits, 'body');
}

function tooManyEntries(limits: RecordLimits): PipelineError {
  return tooLarge(`a log record holds more than ${limits.maxAttributes} attributes, map entries and array elements (receiver.max_attributes_per_record)`);
}

function visit(v: AnyValue, budget: { entries: number }, limits: RecordLimits, where: string): void {
  if (typeof v === 'string') {
    if (v.length > limits.maxValueChars) throw tooLarge(`a log record's ${where} holds a value of ${v.length} characters, over receiver.max_value_chars (${limits.maxValueChars})`);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) {
      if (--budget.entries < 0) throw tooManyEntries(limits);
      visit(x, budget, limits, where);
    }
    return;
  }
  for (const k in v) {
    if (--budget.entries < 0) throw tooManyEntries(limits);
    visit(v[k]!, budget, limits, where);
  }
}
