/** ExportLogsServiceResponse in both encodings. An empty partial_success means full success (OTLP spec). */
import protobuf from 'protobufjs/minimal.js';

export interface ExportOutcome {
  readonly rejectedLogRecords: number;
  readonly errorMessage: string;
}

export function encodeResponseProtobuf(o: ExportOutcome): Uint8Array {
  const w = protobuf.Writer.create();
  if (o.rejectedLogRecords > 0 || o.errorMessage !== '') {
    w.uint32((1 << 3) | 2).fork();
    if (o.rejectedLogRecords > 0) w.uint32(1 << 3).int64(o.rejectedLogRecords);
    if (o.errorMessage !== '') w.uint32((2 << 3) | 2).string(o.errorMessage);
    w.ldelim();
  }
  return w.finish();
}

export function encodeResponseJson(o: ExportOutcome): string {
  if (o.rejectedLogRecords === 0 && o.errorMessage === '') return '{}';
  return JSON.stringify({ partialSuccess: { rejectedLogRecords: String(o.rejectedLogRecords), errorMessage: o.errorMessage } });
}
