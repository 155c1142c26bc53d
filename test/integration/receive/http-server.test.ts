import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodeExport } from '../../../src/decode/export-request.ts';
import { ErrorCode, PipelineError } from '../../../src/errors.ts';
import { startHttpServer } from '../../../src/receive/http-server.ts';
import type { HealthSource, RunningServer } from '../../../src/receive/types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { decodeExportResponse, decodeRpcStatus, httpGet, sendHttpExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { counterValue } from './metric-delta.ts';
import { MAX_INFLATED, RecordingHandler, sampleRequest } from './recording-handler.ts';

const MAX_REQUEST = 64 * 1024;

void describe('OTLP/HTTP receiver', () => {
  const h = new RecordingHandler();
  const health = { live: true, ready: true, reasons: [] as string[] };
  const healthSource: HealthSource = { live: () => health.live, ready: () => ({ ready: health.ready, reasons: health.reasons }) };
  let srv: RunningServer;
  const reset = (): void => {
    h.respond = new RecordingHandler().respond;
  };
  before(async () => {
    srv = await startHttpServer({
      listen: '127.0.0.1:0',
      maxRequestBytes: MAX_REQUEST,
      handler: h.handler,
      health: healthSource,
      logger: silentLogger,
      extraRoutes: new Map([['/debug/echo', (_req, res) => void res.end('extra')]]),
    });
  });
  after(() => srv.close(1_000));

  const cases = [
    { format: 'protobuf', compress: undefined },
    { format: 'protobuf', compress: 'gzip' },
    { format: 'json', compress: undefined },
    { format: 'json', compress: 'gzip' },
    { format: 'json', compress: 'deflate' },
  ] as const;
  for (const c of cases) {
    void test(`accepts ${c.format}${c.compress ? ` + ${c.compress}` : ''}; the handler gets the raw body and its labels`, async () => {
      const doc = sampleRequest(2, `${c.format}${c.compress ?? ''}`);
      const payload = c.format === 'json' ? JSON.stringify(doc) : otlpJsonToProtobuf(doc);
      const n = h.calls.length;
      const accepted = await counterValue(metrics.requestsTotal, { transport: 'http', outcome: 'accepted' });
      const r = await sendHttpExport(srv.address, payload, { format: c.format, ...(c.compress ? { compress: c.compress } : {}) });
      assert.equal(r.status, 200, r.body.toString());
      if (c.format === 'json') {
        assert.equal(r.headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(r.body.toString()), {});
      } else {
        assert.equal(r.headers['content-type'], 'application/x-protobuf');
        assert.deepEqual(decodeExportResponse(r.body), { rejectedLogRecords: 0, errorMessage: '' });
      }
      const call = h.calls[n]!;
      assert.equal(call.transport, 'http');
      assert.equal(call.format, c.format);
      assert.equal(call.encoding, c.compress ?? 'identity');
      const recs = decodeExport(call, MAX_INFLATED).records;
      assert.deepEqual(recs.map((x) => x.body), [0, 1].map((i) => `record ${c.format}${c.compress ?? ''} ${i}`));
      assert.equal(recs[1]!.attributes['seq'], 1);
      assert.equal(recs[0]!.resource.attributes['host.name'], `host-${c.format}${c.compress ?? ''}`);
      assert.equal(await counterValue(metrics.requestsTotal, { transport: 'http', outcome: 'accepted' }), accepted + 1);
    });
  }

  void test('media type parameters and case are tolerated', async () => {
    const r = await sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), {
      headers: { 'content-type': 'Application/JSON; charset=utf-8', 'content-encoding': 'identity' },
    });
    assert.equal(r.status, 200, r.body.toString());
  });

  void test('partial success is a 200 with partialSuccess in the request content type', async () => {
    h.respond = () => Promise.resolve({ rejectedLogRecords: 3, errorMessage: 'three bad' });
    try {
      const partial = await counterValue(metrics.requestsTotal, { transport: 'http', outcome: 'partial' });
      const j = await sendHttpExport(srv.address, JSON.stringify(sampleRequest(3)), { format: 'json' });
      assert.equal(j.status, 200);
      assert.deepEqual(JSON.parse(j.body.toString()), { partialSuccess: { rejectedLogRecords: '3', errorMessage: 'three bad' } });
      const p = await sendHttpExport(srv.address, otlpJsonToProtobuf(sampleRequest(3)), { format: 'protobuf', compress: 'gzip' });
      assert.equal(p.status, 200);
      assert.deepEqual(decodeExportResponse(p.body), { rejectedLogRecords: 3, errorMessage: 'three bad' });
      assert.equal(await counterValue(metrics.requestsTotal, { transport: 'http', outcome: 'partial' }), partial + 2);
    } finally {
      reset();
    }
  });

  void test('backpressure → 429 with Retry-After; other retryable errors → 503 with Retry-After', async () => {
    try {
      h.respond = () => Promise.reject(new PipelineError(ErrorCode.BACKPRESSURE, 'queue full', true, { retryAfterSeconds: 2.5 }));
      const errs = await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.BACKPRESSURE });
      const r = await sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json' });
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '3');
      assert.deepEqual(JSON.parse(r.body.toString()), { code: 8, message: 'queue full' });
      assert.equal(await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.BACKPRESSURE }), errs + 1);
      h.respond = () => Promise.reject(new PipelineError(ErrorCode.WORKER, 'worker died', true));
      const r2 = await sendHttpExport(srv.address, otlpJsonToProtobuf(sampleRequest(1)));
      assert.equal(r2.status, 503);
      assert.equal(r2.headers['retry-after'], '1');
      const st = decodeRpcStatus(r2.body);
      assert.equal(st.code, 14);
      assert.equal(st.message, 'worker died');
      h.respond = () => Promise.reject(new Error('boom internals'));
      const r3 = await sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json' });
      assert.equal(r3.status, 500);
      assert.equal(r3.headers['retry-after'], undefined);
      assert.deepEqual(JSON.parse(r3.body.toString()), { code: 13, message: 'internal error' });
    } finally {
      reset();
    }
  });

  void test('malformed JSON / protobuf → 400 with a google.rpc.Status body in the request content type', async () => {
    const refused = await counterValue(metrics.requestsTotal, { transport: 'http', outcome: 'refused' });
    const decodeErrs = await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.DECODE });
    const j = await sendHttpExport(srv.address, '{"resourceLogs": 5}', { format: 'json' });
    assert.equal(j.status, 400);
    assert.equal(j.headers['content-type'], 'application/json');
    const body = JSON.parse(j.body.toString()) as { code: number; message: string };
    assert.equal(body.code, 3);
    assert.match(body.message, /\$\.resourceLogs.*expected an array/);
    const good = otlpJsonToProtobuf(sampleRequest(2));
    const p = await sendHttpExport(srv.address, good.subarray(0, good.length - 3));
    assert.equal(p.status, 400);
    assert.equal(p.headers['content-type'], 'application/x-protobuf');
    const st = decodeRpcStatus(p.body);
    assert.equal(st.code, 3);
    assert.match(st.message, /malformed ExportLogsServiceRequest/);
    assert.equal(await counterValue(metrics.requestsTotal, { transport: 'http', outcome: 'refused' }), refused + 2);
    assert.equal(await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.DECODE }), decodeErrs + 2);
  });

  void test('bad gzip → 400', async () => {
    const r = await sendHttpExport(srv.address, Buffer.from('definitely not gzip'), { headers: { 'content-encoding': 'gzip' } });
    assert.equal(r.status, 400);
    assert.match(decodeRpcStatus(r.body).message, /gzip-decode/);
  });

  void test('body over the wire limit → 413 without calling the handler (declared length and chunked)', async () => {
    const big = JSON.stringify({ resourceLogs: [], pad: 'x'.repeat(MAX_REQUEST) });
    const n = h.calls.length;
    const tooLarge = await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.TOO_LARGE });
    const declared = await sendHttpExport(srv.address, big, { format: 'json' });
    assert.equal(declared.status, 413);
    assert.equal(declared.headers['connection'], 'close');
    const huge = Buffer.alloc(16 * MAX_REQUEST, 0x20);
    const chunked = await sendHttpExport(srv.address, huge, { format: 'json', chunkSize: 4096 });
    assert.equal(chunked.status, 413);
    assert.equal(JSON.parse(chunked.body.toString()).code, 8);
    assert.equal(h.calls.length, n);
    assert.equal(await counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.TOO_LARGE }), tooLarge + 2);
    const fits = await sendHttpExport(srv.address, JSON.stringify({ resourceLogs: [], pad: 'x'.repeat(MAX_REQUEST - 100) }), { format: 'json', chunkSize: 1000 });
    assert.equal(fits.status, 200);
  });

  void test('gzip bomb: small on the wire, inflates past the decoder cap → 413', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_INFLATED + 1024, 0x20));
    assert.ok(bomb.length < MAX_REQUEST);
    const r = await sendHttpExport(srv.address, bomb, { format: 'json', headers: { 'content-encoding': 'gzip' } });
    assert.equal(r.status, 413);
  });

  void test('unsupported Content-Type or Content-Encoding → 415, handler not called', async () => {
    const n = h.calls.length;
    const ct = await sendHttpExport(srv.address, 'hello', { headers: { 'content-type': 'text/plain' } });
    assert.equal(ct.status, 415);
    assert.match(ct.body.toString(), /application\/x-protobuf or application\/json/);
    const none = await sendHttpExport(srv.address, 'hello', { headers: { 'content-type': '' } });
    assert.equal(none.status, 415);
    const enc = await sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json', headers: { 'content-encoding': 'br' } });
    assert.equal(enc.status, 415);
    assert.equal(JSON.parse(enc.body.toString()).code, 12);
    assert.equal(h.calls.length, n);
  });

  void test('wrong method → 405 with Allow; unknown path → 404; extra routes are served', async () => {
    const get = await httpGet(srv.address, '/v1/logs');
    assert.equal(get.status, 405);
    assert.equal(get.headers['allow'], 'POST');
    assert.equal((await httpGet(srv.address, '/v1/traces')).status, 404);
    assert.equal((await sendHttpExport(srv.address, '', { path: '/healthz' })).status, 405);
    const extra = await httpGet(srv.address, '/debug/echo?x=1');
    assert.equal(extra.status, 200);
    assert.equal(extra.body.toString(), 'extra');
    const q = await sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json', path: '/v1/logs?tenant=a' });
    assert.equal(q.status, 200);
  });

  void test('/healthz and /readyz follow the HealthSource', async () => {
    assert.equal((await httpGet(srv.address, '/healthz')).status, 200);
    const ready = await httpGet(srv.address, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body.toString()), { ready: true, reasons: [] });
    health.live = false;
    health.ready = false;
    health.reasons = ['ClickHouse unreachable'];
    try {
      assert.equal((await httpGet(srv.address, '/healthz')).status, 503);
      const notReady = await httpGet(srv.address, '/readyz');
      assert.equal(notReady.status, 503);
      assert.equal(notReady.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(notReady.body.toString()), { ready: false, reasons: ['ClickHouse unreachable'] });
    } finally {
      health.live = true;
      health.ready = true;
      health.reasons = [];
    }
  });

  void test('/metrics serves the prom-client registry including receiver counters', async () => {
    const m = await httpGet(srv.address, '/metrics');
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(m.body.toString(), /otel_sigma_requests_total\{transport="http",outcome="accepted"\} [1-9]/);
    assert.match(m.body.toString(), /otel_sigma_errors_total\{stage="receive",code="ERR_DECODE"\} [1-9]/);
  });
});

void describe('OTLP/HTTP receiver: slow clients and shutdown', () => {
  const health: HealthSource = { live: () => true, ready: () => ({ ready: true, reasons: [] }) };

  void test('a client that never finishes its headers or body is disconnected', async () => {
    const h = new RecordingHandler();
    const srv = await startHttpServer({
      listen: '127.0.0.1:0', handler: h.handler, health, logger: silentLogger,
      timeouts: { headersMs: 300, requestMs: 600, keepAliveMs: 200 },
    });
    try {
      const [host, port] = [srv.address.split(':')[0]!, Number(srv.address.split(':')[1])];
      const waitClosed = (partial: string): Promise<{ ms: number; data: string }> => new Promise((resolve, reject) => {
        const t0 = performance.now();
        let data = '';
        const s = net.connect(port, host, () => s.write(partial));
        s.on('data', (d) => (data += d.toString()));
        s.on('error', () => undefined);
        s.on('close', () => resolve({ ms: performance.now() - t0, data }));
        setTimeout(() => reject(new Error('socket still open after 5 s')), 5_000).unref();
      });
      const headers = await waitClosed('POST /v1/logs HTTP/1.1\r\nHost: x\r\n');
      assert.ok(headers.ms < 3_000, `closed after ${headers.ms} ms`);
      const body = await waitClosed('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"resou');
      assert.ok(body.ms < 3_000, `closed after ${body.ms} ms`);
      assert.match(body.data, /^HTTP\/1\.1 408/);
      assert.equal(h.calls.length, 0);
    } finally {
      await srv.close(100);
    }
  });

  void test('stalled uploads hold at most the body budget: past it a body gets a retryable 429, and what a dropped upload held is given back', async () => {
    const h = new RecordingHandler();
    const srv = await startHttpServer({
      listen: '127.0.0.1:0', handler: h.handler, health, logger: silentLogger, maxRequestBytes: 1024 * 1024, bodyBudgetBytes: 2 * 1024 * 1024,
      timeouts: { headersMs: 5_000, requestMs: 30_000, keepAliveMs: 1_000 },
    });
    const sockets: net.Socket[] = [];
    try {
      const [host, port] = [srv.address.split(':')[0]!, Number(srv.address.split(':')[1])];
      // Each stalls after 900 KiB of a declared 1 MiB body.
      const stall = (): Promise<{ socket: net.Socket; answer: Promise<string> }> => new Promise((resolve) => {
        let data = '';
        const s = net.connect(port, host, () => {
          s.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1048576\r\n\r\n');
          s.write(Buffer.alloc(900 * 1024, 0x0a), () => resolve({ socket: s, answer: new Promise((r) => { s.on('close', () => r(data)); setTimeout(() => r(data), 1_500).unref(); }) }));
        });
        s.on('data', (d) => (data += d.toString()));
        s.on('error', () => undefined);
        sockets.push(s);
      });
      const a = await stall();
      const b = await stall();
      const c = await stall();
      // Two stalled bodies fit the 2 MiB budget; the third crosses it and is answered at once.
      assert.match(await c.answer, /^HTTP\/1\.1 429/);
      assert.match(await c.answer, /retry-after: 1/i);
      // Dropping a stalled upload gives its bytes back: a normal request goes through again.
      a.socket.destroy();
      b.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const ok = await sendHttpExport(srv.address, otlpJsonToProtobuf(sampleRequest(2)), {});
      assert.equal(ok.status, 200);
    } finally {
      for (const s of sockets) s.destroy();
      await srv.close(100);
    }
  });

  void test('close() lets an in-flight request finish, refuses new connections, and is safe to call twice', async () => {
    const h = new RecordingHandler();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    h.respond = async () => {
      await gate;
      return { rejectedLogRecords: 0, errorMessage: '' };
    };
    const srv = await startHttpServer({ listen: '127.0.0.1:0', handler: h.handler, health, logger: silentLogger });
    const inflight = sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json' });
    while (h.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const closing = srv.close(5_000);
    assert.equal(srv.close(5_000), closing);
    await assert.rejects(sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json' }), /ECONNREFUSED/);
    setTimeout(release, 100);
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.headers['connection'], 'close');
    await closing;
  });

  void test('close() destroys a request that outlives the grace period', async () => {
    const h = new RecordingHandler();
    h.respond = () => new Promise(() => undefined);
    const srv = await startHttpServer({ listen: '127.0.0.1:0', handler: h.handler, health, logger: silentLogger });
    const inflight = sendHttpExport(srv.address, JSON.stringify(sampleRequest(1)), { format: 'json' });
    while (h.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await srv.close(200);
    assert.ok(performance.now() - t0 < 2_000);
    await assert.rejects(inflight, /socket hang up|ECONNRESET/);
  });
});
