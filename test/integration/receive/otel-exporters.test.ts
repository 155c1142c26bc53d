/**
 * The official OpenTelemetry JS log exporters as independent clients: whatever they send must reach the
 * handler as bytes that decodeExport turns back into the records emitted (body, attributes, resource).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { decodeExport } from '../../../src/decode/export-request.ts';
import type { LogRecordView } from '../../../src/decode/types.ts';
import { startGrpcServer } from '../../../src/receive/grpc-server.ts';
import { startHttpServer } from '../../../src/receive/http-server.ts';
import type { RunningServer } from '../../../src/receive/types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { MAX_INFLATED, RecordingHandler, type Call } from './recording-handler.ts';

type GrpcConfig = NonNullable<ConstructorParameters<typeof GrpcExporter>[0]>;
type HttpConfig = NonNullable<ConstructorParameters<typeof HttpJsonExporter>[0]>;

async function emitThrough(exporter: unknown, batch: boolean, tag: string, n: number): Promise<void> {
  // The exporters bundle their own copy of sdk-logs' types; at run time the interface is the same.
  const exp = exporter as LogRecordExporter;
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receiver-test', 'host.name': `host-${tag}` }),
    processors: [batch ? new BatchLogRecordProcessor({ exporter: exp, scheduledDelayMillis: 10, maxExportBatchSize: 100 }) : new SimpleLogRecordProcessor({ exporter: exp })],
  });
  const logger = provider.getLogger('receiver-test-scope', '2.0.0');
  for (let i = 0; i < n; i++) {
    logger.emit({
      severityNumber: 13,
      severityText: 'WARN',
      body: { msg: `hello ${tag}`, i },
      attributes: { 'event.id': 4688 + i, 'user.name': `alice-${tag}`, elevated: i % 2 === 0 },
    });
  }
  await provider.forceFlush();
  await provider.shutdown();
}

function recordsOf(calls: Call[]): LogRecordView[] {
  return calls.flatMap((c) => decodeExport(c, MAX_INFLATED).records);
}

function checkRecords(recs: LogRecordView[], tag: string, n: number): void {
  assert.equal(recs.length, n);
  const sorted = [...recs].sort((a, b) => Number(a.attributes['event.id']) - Number(b.attributes['event.id']));
  sorted.forEach((r, i) => {
    assert.deepEqual(r.body, { msg: `hello ${tag}`, i });
    assert.deepEqual(r.attributes, { 'event.id': 4688 + i, 'user.name': `alice-${tag}`, elevated: i % 2 === 0 });
    assert.equal(r.severityNumber, 13);
    assert.equal(r.severityText, 'WARN');
    assert.equal(r.resource.attributes['host.name'], `host-${tag}`);
    assert.equal(r.resource.attributes['service.name'], 'receiver-test');
    assert.deepEqual(r.scope, { name: 'receiver-test-scope', version: '2.0.0' });
    assert.notEqual(r.timeUnixNano, '0');
  });
}

void describe('official OpenTelemetry JS exporters → receivers', () => {
  const h = new RecordingHandler();
  let grpcSrv: RunningServer;
  let httpSrv: RunningServer;
  before(async () => {
    grpcSrv = await startGrpcServer({ listen: '127.0.0.1:0', handler: h.handler, logger: silentLogger });
    httpSrv = await startHttpServer({
      listen: '127.0.0.1:0', handler: h.handler, logger: silentLogger,
      health: { live: () => true, ready: () => ({ ready: true, reasons: [] }) },
    });
  });
  after(async () => {
    await Promise.all([grpcSrv.close(1_000), httpSrv.close(1_000)]);
  });

  for (const batch of [false, true]) {
    const proc = batch ? 'BatchLogRecordProcessor' : 'SimpleLogRecordProcessor';

    void test(`exporter-logs-otlp-grpc with gzip (${proc})`, async () => {
      const n0 = h.calls.length;
      const cfg: GrpcConfig = { url: `http://${grpcSrv.address}`, compression: 'gzip' as GrpcConfig['compression'] };
      await emitThrough(new GrpcExporter(cfg), batch, `grpc${batch}`, 5);
      const calls = h.calls.slice(n0);
      assert.ok(calls.length >= 1);
      for (const c of calls) assert.deepEqual([c.transport, c.format, c.encoding], ['grpc', 'protobuf', 'identity']);
      checkRecords(recordsOf(calls), `grpc${batch}`, 5);
    });

    void test(`exporter-logs-otlp-http, JSON (${proc})`, async () => {
      const n0 = h.calls.length;
      const cfg: HttpConfig = { url: `http://${httpSrv.address}/v1/logs` };
      await emitThrough(new HttpJsonExporter(cfg), batch, `json${batch}`, 4);
      const calls = h.calls.slice(n0);
      assert.ok(calls.length >= 1);
      for (const c of calls) assert.deepEqual([c.transport, c.format], ['http', 'json']);
      checkRecords(recordsOf(calls), `json${batch}`, 4);
    });

    void test(`exporter-logs-otlp-proto with gzip (${proc})`, async () => {
      const n0 = h.calls.length;
      const cfg: HttpConfig = { url: `http://${httpSrv.address}/v1/logs`, compression: 'gzip' as HttpConfig['compression'] };
      await emitThrough(new HttpProtoExporter(cfg), batch, `proto${batch}`, 6);
      const calls = h.calls.slice(n0);
      assert.ok(calls.length >= 1);
      for (const c of calls) assert.deepEqual([c.transport, c.format, c.encoding], ['http', 'protobuf', 'gzip']);
      checkRecords(recordsOf(calls), `proto${batch}`, 6);
    });
  }
});
