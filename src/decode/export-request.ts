/** The decode stage's entry: raw request bytes as received → decoded log records. */
import { decompress, type ContentEncoding } from './decompress.ts';
import { decodeJsonRequest } from './otlp-json.ts';
import { decodeProtobufRequest } from './otlp-protobuf.ts';
import type { DecodedRequest } from './types.ts';

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
