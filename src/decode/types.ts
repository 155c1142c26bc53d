/**
 * What the decoder hands the mapper: one flat list of log records, each pointing at its (shared)
 * resource and scope. Values are plain JS: int64 becomes a number when it is a safe integer and a
 * decimal string otherwise, bytes become lowercase hex, kvlists become plain objects.
 */
export type AnyValue = string | number | boolean | null | AnyValue[] | { [key: string]: AnyValue };
export type Attributes = Record<string, AnyValue>;

export interface ResourceView {
  readonly attributes: Attributes;
}

export interface ScopeView {
  readonly name: string;
  readonly version: string;
}

export interface LogRecordView {
  /** Nanoseconds since the epoch as a decimal string; "0" when unset. */
  readonly timeUnixNano: string;
  readonly observedTimeUnixNano: string;
  readonly severityNumber: number;
  readonly severityText: string;
  /** null when the record has no body. */
  readonly body: AnyValue;
  readonly attributes: Attributes;
  /** Lowercase hex, "" when unset. */
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: number;
  readonly eventName: string;
  readonly resource: ResourceView;
  readonly scope: ScopeView;
}

export interface DecodedRequest {
  readonly records: LogRecordView[];
}
