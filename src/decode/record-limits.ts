/**
 * Bounds on what one request and one record may hold, checked as each record is decoded, before it is
 * mapped or evaluated. A collector's batches never come near them; crafted input does: 2.5 million tiny
 * records in one 40 MB request, or one 52 MB command line, took a worker's heap to gigabytes (every
 * record, value and match is an object or a copy downstream). Over a bound the whole request is refused
 * with ERR_TOO_LARGE (HTTP 413, gRPC RESOURCE_EXHAUSTED without RetryInfo) naming it.
 */
import { ErrorCode, PipelineError } from '../errors.ts';
import type { AnyValue, LogRecordView } from './types.ts';

export interface RecordLimits {
  /** receiver.max_records_per_request */
  readonly maxRecords: number;
  /** receiver.max_attributes_per_record: attributes plus the entries of map bodies, at every level. */
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

/** Throws ERR_TOO_LARGE when the record has too many attributes or too long a value. */
export function checkRecord(rec: LogRecordView, limits: RecordLimits): void {
  const budget = { entries: limits.maxAttributes };
  visit(rec.attributes, budget, limits, 'attribute');
  visit(rec.body, budget, limits, 'body');
}

function visit(v: AnyValue, budget: { entries: number }, limits: RecordLimits, where: string): void {
  if (typeof v === 'string') {
    if (v.length > limits.maxValueChars) throw tooLarge(`a log record's ${where} holds a value of ${v.length} characters, over receiver.max_value_chars (${limits.maxValueChars})`);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) visit(x, budget, limits, where);
    return;
  }
  for (const k in v) {
    if (--budget.entries < 0) throw tooLarge(`a log record holds more than ${limits.maxAttributes} attributes and body entries (receiver.max_attributes_per_record)`);
    visit(v[k]!, budget, limits, where);
  }
}
