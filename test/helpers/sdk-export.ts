/**
 * Sends decoded corpus records through the OFFICIAL OpenTelemetry JS SDK and exporters — an independent
 * OTLP client implementation — over gRPC (gzip), HTTP/JSON or HTTP/protobuf.
 */
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { LogRecordView } from '../../src/decode/types.ts';

export type SdkTransport = 'grpc-gzip' | 'http-json' | 'http-proto';

export function makeExporter(transport: SdkTransport, grpcAddr: string, httpAddr: string): LogRecordExporter {
  switch (transport) {
    case 'grpc-gzip':
      return new GrpcExporter({ url: `http://${grpcAddr}`, compression: 'gzip' as never });
    case 'http-json':
      return new HttpJsonExporter({ url: `http://${httpAddr}/v1/logs` });
    case 'http-proto':
      return new HttpProtoExporter({ url: `http://${httpAddr}/v1/logs`, compression: 'gzip' as never });
  }
}

const hr = (ns: string): [number, number] => {
  const b = BigInt(ns);
  return [Number(b / 1_000_000_000n), Number(b % 1_000_000_000n)];
};

/** Emits the records, grouped by resource, through one LoggerProvider per resource, and flushes. */
export async function sendWithSdk(records: readonly LogRecordView[], exporter: () => LogRecordExporter): Promise<void> {
  const byResource = new Map<string, LogRecordView[]>();
  for (const r of records) {
    const k = JSON.stringify(r.resource.attributes);
    byResource.set(k, [...(byResource.get(k) ?? []), r]);
  }
  for (const group of byResource.values()) {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes(group[0]!.resource.attributes),
      processors: [new BatchLogRecordProcessor({ exporter: exporter(), maxExportBatchSize: 512, scheduledDelayMillis: 10 })],
    });
    const logger = provider.getLogger(group[0]!.scope.name || 'otel-sigma-test');
    for (const r of group) {
      logger.emit({
        ...(r.timeUnixNano !== '0' ? { timestamp: hr(r.timeUnixNano) } : {}),
        ...(r.observedTimeUnixNano !== '0' ? { observedTimestamp: hr(r.observedTimeUnixNano) } : {}),
        severityNumber: r.severityNumber,
        severityText: r.severityText,
        body: r.body,
        attributes: r.attributes,
      });
    }
    await provider.forceFlush();
    await provider.shutdown();
  }
}
