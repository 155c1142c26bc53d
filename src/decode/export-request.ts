/** The decode stage's entry: raw request bytes as received → decoded log records. */
import { checkRecordCount, countProtobufRecords, type RecordLimits } from './record-limits.ts';
import { decompress, type ContentEncoding } from './decompress.ts';
import { decodeJsonRequest } from './otlp-json.ts';
import { decodeProtobufRequest, forEachProtobufRecord } from './otlp-protobuf.ts';
import type { DecodedRequest, LogRecordView } from './types.ts';

export type PayloadFormat = 'protobuf' | 'json';

export interface RawExport {
  readonly body: Uint8Array;
  readonly format: PayloadFormat;
  readonly encoding: ContentEncoding;
}

export function decodeExport(raw: RawExport, maxBytes: number): DecodedRequest {
  const bytes = decompress(raw.body, raw.encoding, maxBytes);
  return raw.format === 'json' ? decodeJsonRequest(bytes) : decodeProtobufRequest(bytes);
}

/** decodeExport one record at a time (protobuf decodes lazily; JSON is parsed whole, then visited). */
export function forEachExportRecord(raw: RawExport, maxBytes: number, visit: (record: LogRecordView) => void, limits?: RecordLimits): void {
  const bytes = decompress(raw.body, raw.encoding, maxBytes);
  if (raw.format === 'json') {
    const { records } = decodeJsonRequest(bytes);
    if (limits) checkRecordCount(records.length, limits);
    for (const r of records) visit(r);
  } else {
    if (limits) checkRecordCount(countProtobufRecords(bytes), limits);
    forEachProtobufRecord(bytes, visit);
  }
}
