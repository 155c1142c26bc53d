/**
 * Test-side OTLP encoder built from the repo's proto files with protobufjs reflection — independent of the
 * hand-written wire decoder in src/decode, so round-trip tests compare two implementations.
 */
import path from 'node:path';
import protobuf from 'protobufjs';

const protoRoot = path.resolve(import.meta.dirname, '../../proto');

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoRoot, target);
root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto', { keepCase: false });

export const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');

/** OTLP/JSON document (hex ids, base64 bytes) → protobuf bytes. */
export function otlpJsonToProtobuf(doc: unknown): Uint8Array {
  const fixed = JSON.parse(JSON.stringify(doc), (key: string, value: unknown) => {
    if ((key === 'traceId' || key === 'spanId') && typeof value === 'string') return Buffer.from(value, 'hex').toString('base64');
    return value;
  }) as Record<string, unknown>;
  return ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(fixed)).finish();
}
