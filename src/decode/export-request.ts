/** The decode stage's entry: raw request bytes as received → decoded log records. */
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
export function forEachExportRecord(raw: RawExport, maxBytes: number, visit: (record: LogRecordView) => void): void {
  const bytes = decompress(raw.body, raw.encoding, maxBytes);
  if (raw.format === 'json') for (const r of decodeJsonRequest(bytes).records) visit(r);
  else forEachProtobufRecord(bytes, visit);
}
