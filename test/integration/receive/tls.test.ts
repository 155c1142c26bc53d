/**
 * TLS and mutual TLS on both receivers, with certificates made for the test: the official OpenTelemetry
 * exporters and the raw clients get through with the CA (and, under mTLS, a client certificate signed by
 * it); plaintext clients, clients without a certificate and clients with a foreign one do not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { decodeExport } from '../../../src/decode/export-request.ts';
import type { ReceiverTls } from '../../../src/receive/auth.ts';
import { startGrpcServer } from '../../../src/receive/grpc-server.ts';
import { startHttpServer } from '../../../src/receive/http-server.ts';
import type { RunningServer } from '../../../src/receive/types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { makePki, type Pki } from '../../helpers/certs.ts';
import { httpGet, sendGrpcExport, sendHttpExport, type ClientTls } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { MAX_INFLATED, RecordingHandler, sampleRequest, type Call } from './recording-handler.ts';

const health = { live: () => true, ready: () => ({ ready: true, reasons: [] }) };

async function emitOne(exporter: unknown, tag: string): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'host.name': `host-${tag}` }),
    processors: [new SimpleLogRecordProcessor({ exporter: exporter as LogRecordExporter })],
  });
  provider.getLogger('tls-test').emit({ severityNumber: 9, body: `over tls ${tag}` });
  await provider.forceFlush();
  await provider.shutdown();
}

const bodies = (calls: readonly Call[]): unknown[] => calls.flatMap((c) => decodeExport(c, MAX_INFLATED).records.map((r) => r.body));

interface Pair { grpc: RunningServer; http: RunningServer; h: RecordingHandler }

async function startPair(tls: ReceiverTls): Promise<Pair> {
  const h = new RecordingHandler();
  const g = await startGrpcServer({ listen: '127.0.0.1:0', handler: h.handler, logger: silentLogger, tls });
  const s = await startHttpServer({ listen: '127.0.0.1:0', handler: h.handler, health, logger: silentLogger, tls });
  return { grpc: g, http: s, h };
}

/** A connection-level failure (handshake refused / reset), as opposed to an HTTP status. */
void describe('receivers over TLS', () => {
  let pki: Pki;
  let srv: Pair;
  let trust: ClientTls;
  before(async () => {
    pki = makePki();
    trust = { ca: pki.caCert };
    srv = await startPair({ cert: pki.serverCert, key: pki.serverKey });
  });
  after(async () => {
    await srv.grpc.close(500);
    await srv.http.close(500);
    pki.remove();
  });

  void test('official gRPC exporter with TLS credentials delivers', async () => {
    const before = srv.h.calls.length;
    await emitOne(new GrpcExporter({ url: `https://${srv.grpc.address}`, credentials: grpc.credentials.createSsl(pki.caCert) }), 'grpc');
    assert.deepEqual(bodies(srv.h.calls.slice(before)), ['over tls grpc']);
  });

  void test('official HTTP/protobuf exporter with the CA in its agent options delivers', async () => {
    const before = srv.h.calls.length;
    await emitOne(new HttpProtoExporter({ url: `https://${srv.http.address}/v1/logs`, httpAgentOptions: { ca: pki.caCert } }), 'http');
    assert.deepEqual(bodies(srv.h.calls.slice(before)), ['over tls http']);
  });

  void test('raw clients: gRPC OK and HTTPS 200; /healthz over HTTPS', async () => {
    const bytes = otlpJsonToProtobuf(sampleRequest(1, 'raw'));
    assert.equal((await sendGrpcExport(srv.grpc.address, bytes, { tls: trust })).code, grpc.status.OK);
    assert.equal((await sendHttpExport(srv.http.address, bytes, { tls: trust })).status, 200);
    assert.equal((await httpGet(srv.http.address, '/healthz', { tls: trust })).status, 200);
  });

  void test('plaintext clients get no service from a TLS port', async () => {
    const bytes = otlpJsonToProtobuf(sampleRequest(1, 'plain'));
    const before = srv.h.calls.length;
    const r = await sendGrpcExport(srv.grpc.address, bytes, { deadlineMs: 3_000 });
    assert.equal(r.code, grpc.status.UNAVAILABLE, r.details);
    await assert.rejects(sendHttpExport(srv.http.address, bytes));
    assert.equal(srv.h.calls.length, before, 'no request reached the handler');
  });

  void test('a client that does not trust the CA refuses the server certificate', async () => {
    const other = makePki();
    try {
      const bytes = otlpJsonToProtobuf(sampleRequest(1));
      const r = await sendGrpcExport(srv.grpc.address, bytes, { tls: { ca: other.caCert }, deadlineMs: 3_000 });
      assert.equal(r.code, grpc.status.UNAVAILABLE);
      await assert.rejects(sendHttpExport(srv.http.address, bytes, { tls: { ca: other.caCert } }), /self-signed|unable to verify|certificate/i);
    } finally {
      other.remove();
    }
  });
});

void describe('receivers with mutual TLS', () => {
  let pki: Pki;
  let srv: Pair;
  before(async () => {
    pki = makePki();
    srv = await startPair({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert });
  });
  after(async () => {
    await srv.grpc.close(500);
    await srv.http.close(500);
    pki.remove();
  });

  void test('a client certificate signed by the CA is accepted (official exporters and raw clients)', async () => {
    const before = srv.h.calls.length;
    await emitOne(new GrpcExporter({
      url: `https://${srv.grpc.address}`,
      credentials: grpc.credentials.createSsl(pki.caCert, pki.clientKey, pki.clientCert),
    }), 'mtls-grpc');
    await emitOne(new HttpProtoExporter({
      url: `https://${srv.http.address}/v1/logs`,
      httpAgentOptions: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
    }), 'mtls-http');
    assert.deepEqual(bodies(srv.h.calls.slice(before)), ['over tls mtls-grpc', 'over tls mtls-http']);
    const tls = { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey };
    const bytes = otlpJsonToProtobuf(sampleRequest(1));
    assert.equal((await sendGrpcExport(srv.grpc.address, bytes, { tls })).code, grpc.status.OK);
    assert.equal((await sendHttpExport(srv.http.address, bytes, { tls })).status, 200);
  });

  void test('without a client certificate: gRPC handshake fails, HTTP answers 401 on every route but /healthz (probes have no certificate)', async () => {
    const before = srv.h.calls.length;
    const bytes = otlpJsonToProtobuf(sampleRequest(1));
    const r = await sendGrpcExport(srv.grpc.address, bytes, { tls: { ca: pki.caCert }, deadlineMs: 3_000 });
    assert.equal(r.code, grpc.status.UNAVAILABLE, r.details);
    assert.equal((await sendHttpExport(srv.http.address, bytes, { tls: { ca: pki.caCert } })).status, 401);
    for (const route of ['/readyz', '/metrics', '/api/v1/detections']) assert.equal((await httpGet(srv.http.address, route, { tls: { ca: pki.caCert } })).status, 401, route);
    assert.equal((await httpGet(srv.http.address, '/healthz', { tls: { ca: pki.caCert } })).status, 200);
    assert.equal(srv.h.calls.length, before);
  });

  void test('a client certificate from another CA is refused', async () => {
    const before = srv.h.calls.length;
    const tls = { ca: pki.caCert, cert: pki.rogueClientCert, key: pki.rogueClientKey };
    const bytes = otlpJsonToProtobuf(sampleRequest(1));
    const r = await sendGrpcExport(srv.grpc.address, bytes, { tls, deadlineMs: 3_000 });
    assert.equal(r.code, grpc.status.UNAVAILABLE, r.details);
    assert.equal((await sendHttpExport(srv.http.address, bytes, { tls })).status, 401);
    assert.equal((await httpGet(srv.http.address, '/metrics', { tls })).status, 401);
    assert.equal(srv.h.calls.length, before);
  });
});
