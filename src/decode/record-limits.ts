/**
 * Bounds on what one request and one record may hold, checked as each record is decoded, before it is
 * mapped or evaluated. A collector's batches never come near them; crafted input does: 2.5 million tiny
 * records in one 40 MB request, or one 52 MB command line, took a worker's heap to gigabytes (every
 * record, value and match is an object or a copy downstream). Over a bound the whole request is refused
 * with ERR_TOO_LARGE (HTTP 413, gRPC RESOURCE_EXHAUSTED without RetryInfo) naming it.
 */
import { ErrorCode, PipelineError } from '../errors.ts';
import { varint } from './split-request.ts';
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
  const walk = (from: number, to: number, depth: number): boolean => {
    let i = from;
    while (i < to) {
      const tag = varint(bytes, i);
      if (tag === undefined) return false;
      const wire = tag.value & 7;
      const field = Math.floor(tag.value / 8);
      i = tag.next;
      if (wire === 2) {
        const len = varint(bytes, i);
        if (len === undefined || len.next + len.value > to) return false;
        // request.resource_logs (1) → ResourceLogs.scope_logs (2) → ScopeLogs.log_records (2)
        if (depth === 0 && field === 1 && !walk(len.next, len.next + len.value, 1)) return false;
        if (depth === 1 && field === 2 && !walk(len.next, len.next + len.value, 2)) return false;
        if (depth === 2 && field === 2) n++;
        i = len.next + len.value;
      } else if (wire === 0) {
        const v = varint(bytes, i);
        if (v === undefined) return false;
        i = v.next;
      } else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return false;
    }
    return i === to;
  };
  return walk(0, bytes.length, 0) ? n : 0;
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
