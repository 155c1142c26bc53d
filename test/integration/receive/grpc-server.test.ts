import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import { decodeExport } from '../../../src/decode/export-request.ts';
import { ErrorCode, PipelineError } from '../../../src/errors.ts';
import { startGrpcServer } from '../../../src/receive/grpc-server.ts';
import type { RunningServer } from '../../../src/receive/types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { decodeExportResponse, grpcStatusDetails, sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { counterValue } from './metric-delta.ts';
import { MAX_INFLATED, RecordingHandler, sampleRequest } from './recording-handler.ts';

const MAX_REQUEST = 256 * 1024;

void describe('OTLP/gRPC receiver', () => {
  const h = new RecordingHandler();
  let srv: RunningServer;
  before(async () => {
    srv = await startGrpcServer({ listen: '127.0.0.1:0', maxRequestBytes: MAX_REQUEST, handler: h.handler, logger: silentLogger });
  });
  after(() => srv.close(1_000));

  void test('binds an ephemeral port and reports it', () => {
    assert.match(srv.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(srv.address, '127.0.0.1:0');
  });

  for (const gzip of [true, false]) {
    void test(`hands the raw, uncompressed message to the handler (client gzip=${gzip})`, async () => {
      const bytes = otlpJsonToProtobuf(sampleRequest(3, `g${gzip}`));
      const before = h.calls.length;
      const accepted = await counterValue(metrics.requestsTotal, { transport: 'grpc', outcome: 'accepted' });
      const r = await sendGrpcExport(srv.address, bytes, { gzip });
      assert.equal(r.code, status.OK, r.details);
      assert.deepEqual(decodeExportResponse(r.response!), { rejectedLogRecords: 0, errorMessage: '' });
      const call = h.calls[before]!;
      assert.equal(call.transport, 'grpc');
      assert.equal(call.format, 'protobuf');
      assert.equal(call.encoding, 'identity');
      assert.ok(call.body.equals(bytes), 'handler got exactly the bytes sent');
      const recs = decodeExport(call, MAX_INFLATED).records;
      assert.deepEqual(recs.map((x) => x.body), [`record g${gzip} 0`, `record g${gzip} 1`, `record g${gzip} 2`]);
      assert.equal(recs[0]!.resource.attributes['host.name'], `host-g${gzip}`);
      assert.equal(recs[2]!.attributes['seq'], 2);
      assert.equal(await counterValue(metrics.requestsTotal, { transport: 'grpc', outcome: 'accepted' }), accepted + 1);
    });
  }

  void test('returns partial_success from the handler', async () => {
    h.respond = () => Promise.resolve({ rejectedLogRecords: 2, errorMessage: '2 records unmappable' });
    try {
      const r = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(2)));
      assert.equal(r.code, status.OK);
      assert.deepEqual(decodeExportResponse(r.response!), { rejectedLogRecords: 2, errorMessage: '2 records unmappable' });
    } finally {
      h.respond = new RecordingHandler().respond;
    }
  });

  void test('backpressure → RESOURCE_EXHAUSTED with a RetryInfo trailer carrying the delay', async () => {
    h.respond = () => Promise.reject(new PipelineError(ErrorCode.BACKPRESSURE, 'queue full', true, { retryAfterSeconds: 3 }));
    const errs = await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.BACKPRESSURE });
    const retries = await counterValue(metrics.requestsTotal, { transport: 'grpc', outcome: 'retry' });
    try {
      const r = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
      assert.equal(r.code, status.RESOURCE_EXHAUSTED);
      assert.equal(r.details, 'queue full');
      const d = grpcStatusDetails(r.trailers);
      assert.ok(d, 'grpc-status-details-bin trailer present');
      assert.equal(d.code, status.RESOURCE_EXHAUSTED);
      assert.equal(d.message, 'queue full');
      assert.deepEqual(d.detailTypes, ['type.googleapis.com/google.rpc.RetryInfo']);
      assert.equal(d.retryDelaySeconds, 3);
      assert.equal(await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.BACKPRESSURE }), errs + 1);
      assert.equal(await counterValue(metrics.requestsTotal, { transport: 'grpc', outcome: 'retry' }), retries + 1);
    } finally {
      h.respond = new RecordingHandler().respond;
    }
  });

  void test('other retryable errors → UNAVAILABLE (with RetryInfo); non-pipeline errors → INTERNAL without details', async () => {
    h.respond = () => Promise.reject(new PipelineError(ErrorCode.SHUTTING_DOWN, 'bye', true));
    try {
      const r = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
      assert.equal(r.code, status.UNAVAILABLE);
      assert.equal(grpcStatusDetails(r.trailers)?.retryDelaySeconds, 1);
      h.respond = () => Promise.reject(new TypeError('secret internals'));
      const r2 = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
      assert.equal(r2.code, status.INTERNAL);
      assert.equal(r2.details, 'internal error');
      assert.equal(grpcStatusDetails(r2.trailers), undefined);
      h.respond = () => {
        throw new PipelineError(ErrorCode.WORKER, 'sync throw', false);
      };
      const r3 = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
      assert.equal(r3.code, status.INTERNAL);
      assert.equal(r3.details, 'sync throw');
    } finally {
      h.respond = new RecordingHandler().respond;
    }
  });

  void test('malformed protobuf → INVALID_ARGUMENT with the decoder message', async () => {
    const good = otlpJsonToProtobuf(sampleRequest(2));
    const refused = await counterValue(metrics.requestsTotal, { transport: 'grpc', outcome: 'refused' });
    const r = await sendGrpcExport(srv.address, good.subarray(0, good.length - 5));
    assert.equal(r.code, status.INVALID_ARGUMENT);
    assert.match(r.details, /malformed ExportLogsServiceRequest/);
    assert.equal(grpcStatusDetails(r.trailers), undefined);
    assert.equal(await counterValue(metrics.requestsTotal, { transport: 'grpc', outcome: 'refused' }), refused + 1);
  });

  void test('oversize message → RESOURCE_EXHAUSTED without RetryInfo, handler not called (plain and gzip)', async () => {
    const big = otlpJsonToProtobuf({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'A'.repeat(MAX_REQUEST + 10) } }] }] }] });
    assert.ok(gzipSync(big).length < MAX_REQUEST, 'the compressed form fits, only the inflated one is too big');
    for (const gzip of [false, true]) {
      const before = h.calls.length;
      const r = await sendGrpcExport(srv.address, big, { gzip });
      assert.equal(r.code, status.RESOURCE_EXHAUSTED, `gzip=${gzip}: ${r.details}`);
      assert.equal(grpcStatusDetails(r.trailers)?.retryDelaySeconds, undefined);
      assert.equal(h.calls.length, before);
    }
  });

  void test('a message just under the limit is accepted', async () => {
    const body = otlpJsonToProtobuf({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'B'.repeat(MAX_REQUEST - 64) } }] }] }] });
    assert.ok(body.length <= MAX_REQUEST);
    const r = await sendGrpcExport(srv.address, body);
    assert.equal(r.code, status.OK, r.details);
  });
});

void describe('OTLP/gRPC receiver shutdown', () => {
  void test('close() lets an in-flight call finish, refuses new ones, and is safe to call twice', async () => {
    const h = new RecordingHandler();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const started = new Promise<void>((r) => (entered = r));
    h.respond = async () => {
      entered();
      await gate;
      return { rejectedLogRecords: 1, errorMessage: 'slow one' };
    };
    const srv = await startGrpcServer({ listen: '127.0.0.1:0', maxRequestBytes: MAX_REQUEST, handler: h.handler, logger: silentLogger });
    const inflight = sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
    await started;
    const closing = srv.close(5_000);
    assert.equal(srv.close(5_000), closing);
    const late = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)), { deadlineMs: 2_000 });
    assert.notEqual(late.code, status.OK);
    setTimeout(release, 100);
    const r = await inflight;
    assert.equal(r.code, status.OK, r.details);
    assert.deepEqual(decodeExportResponse(r.response!), { rejectedLogRecords: 1, errorMessage: 'slow one' });
    await closing;
    assert.equal(h.calls.length, 1);
  });

  void test('close() cuts a call that outlives the grace period', async () => {
    const h = new RecordingHandler();
    h.respond = () => new Promise(() => undefined);
    const srv = await startGrpcServer({ listen: '127.0.0.1:0', handler: h.handler, logger: silentLogger });
    const inflight = sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
    while (h.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    await srv.close(200);
    assert.ok(performance.now() - t0 < 2_000);
    const r = await inflight;
    assert.notEqual(r.code, status.OK);
  });
});

void describe('OTLP/gRPC receiver: connection hygiene', () => {
  const h = new RecordingHandler();
  let srv: RunningServer;
  before(async () => {
    srv = await startGrpcServer({ listen: '127.0.0.1:0', handler: h.handler, logger: silentLogger, connectionIdleMs: 300 });
  });
  after(() => srv.close(1_000));

  void test('a connection that opens an HTTP/2 session and sends no call is closed once idle', async () => {
    const session = http2.connect(`http://${srv.address}`);
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      session.once('goaway', () => resolve(Date.now() - t0));
      session.once('close', () => resolve(Date.now() - t0));
    });
    session.on('error', () => undefined);
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5_000))]);
    session.destroy();
    assert.ok(ms >= 0, 'the server closed the idle session within 5 s');
  });

  void test('a TCP connection that never speaks is closed once idle', async () => {
    const sock = net.connect(Number(srv.address.split(':')[1]), '127.0.0.1');
    sock.on('error', () => undefined);
    sock.resume();
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => sock.once('close', () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    sock.destroy();
    assert.ok(ended, 'the server closed the silent connection within 5 s');
  });
});

