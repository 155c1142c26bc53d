/**
 * Token authentication on both receivers (over TLS, as deployed): no token and a wrong token are refused
 * before the handler runs (gRPC UNAUTHENTICATED, HTTP 401 + WWW-Authenticate) and counted; the right
 * token is accepted as `Authorization: Bearer` and as `X-API-Key`, any of the rotation set. /healthz stays
 * open, /readyz and /metrics need the token. Nothing the server logs contains a token.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { pino } from 'pino';
import { ErrorCode } from '../../../src/errors.ts';
import { startGrpcServer } from '../../../src/receive/grpc-server.ts';
import { startHttpServer } from '../../../src/receive/http-server.ts';
import type { RunningServer } from '../../../src/receive/types.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { makePki, type Pki } from '../../helpers/certs.ts';
import { decodeRpcStatus, httpGet, sendGrpcExport, sendHttpExport, type ClientTls } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { counterValue } from './metric-delta.ts';
import { RecordingHandler, sampleRequest } from './recording-handler.ts';

const TOKENS = ['tok-current-7f3a9c51e2', 'tok-next-0b8d44aa91'];
const WRONG = 'tok-wrong-55e1c0ffee';
const health = { live: () => true, ready: () => ({ ready: true, reasons: [] }) };

void describe('receiver token authentication', () => {
  let pki: Pki;
  let tls: ClientTls;
  let g: RunningServer;
  let s: RunningServer;
  const h = new RecordingHandler();
  let logText = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logText += chunk.toString(); cb(); } });
  const logger = pino({ level: 'trace' }, sink);
  const bytes = otlpJsonToProtobuf(sampleRequest(1, 'auth'));
  const refusals = (): Promise<number> => counterValue(metrics.errors, { stage: 'receive', code: ErrorCode.UNAUTHENTICATED });

  before(async () => {
    pki = makePki();
    tls = { ca: pki.caCert };
    const opts = { tls: { cert: pki.serverCert, key: pki.serverKey }, auth: { tokens: TOKENS } };
    g = await startGrpcServer({ listen: '127.0.0.1:0', handler: h.handler, logger, ...opts });
    s = await startHttpServer({ listen: '127.0.0.1:0', handler: h.handler, health, logger, ...opts });
  });
  after(async () => {
    await g.close(500);
    await s.close(500);
    pki.remove();
  });

  void test('gRPC: no token and a wrong token → UNAUTHENTICATED, counted, handler never called', async () => {
    const calls = h.calls.length;
    const before = await refusals();
    for (const metadata of [{}, { authorization: `Bearer ${WRONG}` }, { 'x-api-key': WRONG }, { authorization: TOKENS[0]! }, { authorization: `Basic ${TOKENS[0]!}` }] as Record<string, string>[]) {
      const r = await sendGrpcExport(g.address, bytes, { tls, metadata });
      assert.equal(r.code, grpc.status.UNAUTHENTICATED, JSON.stringify(metadata));
      assert.doesNotMatch(r.details, /tok-/);
    }
    assert.equal(await refusals(), before + 5);
    assert.equal(h.calls.length, calls);
  });

  void test('gRPC: each rotation token is accepted, as Bearer and as X-API-Key', async () => {
    for (const t of TOKENS) {
      assert.equal((await sendGrpcExport(g.address, bytes, { tls, metadata: { authorization: `Bearer ${t}` } })).code, grpc.status.OK);
      assert.equal((await sendGrpcExport(g.address, bytes, { tls, metadata: { 'x-api-key': t } })).code, grpc.status.OK);
    }
  });

  void test('HTTP: no token and a wrong token → 401 with WWW-Authenticate and an OTLP Status body', async () => {
    const calls = h.calls.length;
    const before = await refusals();
    for (const headers of [{}, { authorization: `Bearer ${WRONG}` }, { 'x-api-key': WRONG }, { authorization: `bearer ${TOKENS[1]!}x` }] as Record<string, string>[]) {
      const r = await sendHttpExport(s.address, bytes, { tls, headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
      assert.equal(decodeRpcStatus(r.body).code, grpc.status.UNAUTHENTICATED);
    }
    assert.equal(await refusals(), before + 4);
    assert.equal(h.calls.length, calls);
  });

  void test('HTTP: each rotation token is accepted, Bearer (any case of the scheme) and X-API-Key', async () => {
    for (const t of TOKENS) {
      assert.equal((await sendHttpExport(s.address, bytes, { tls, headers: { authorization: `Bearer ${t}` } })).status, 200);
      assert.equal((await sendHttpExport(s.address, bytes, { tls, headers: { authorization: `bearer ${t}` } })).status, 200);
      assert.equal((await sendHttpExport(s.address, bytes, { tls, headers: { 'x-api-key': t } })).status, 200);
    }
  });

  void test('/healthz is open; /readyz and /metrics need the token', async () => {
    assert.equal((await httpGet(s.address, '/healthz', { tls })).status, 200);
    for (const path of ['/readyz', '/metrics']) {
      const refused = await httpGet(s.address, path, { tls });
      assert.equal(refused.status, 401, path);
      assert.match(String(refused.headers['www-authenticate']), /^Bearer/);
      assert.equal((await httpGet(s.address, path, { tls, headers: { 'x-api-key': WRONG } })).status, 401);
      assert.equal((await httpGet(s.address, path, { tls, headers: { authorization: `Bearer ${TOKENS[0]!}` } })).status, 200, path);
    }
  });

  void test('official exporters with bearer metadata / headers get through', async () => {
    const calls = h.calls.length;
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${TOKENS[1]!}`);
    const exporters = [
      new GrpcExporter({ url: `https://${g.address}`, credentials: grpc.credentials.createSsl(pki.caCert), metadata: md }),
      new HttpJsonExporter({ url: `https://${s.address}/v1/logs`, headers: { 'X-API-Key': TOKENS[0]! }, httpAgentOptions: { ca: pki.caCert } }),
    ];
    for (const exporter of exporters) {
      const provider = new LoggerProvider({ resource: resourceFromAttributes({}), processors: [new SimpleLogRecordProcessor({ exporter })] });
      provider.getLogger('auth').emit({ body: 'authenticated' });
      await provider.forceFlush();
      await provider.shutdown();
    }
    assert.equal(h.calls.length, calls + 2);
  });

  void test('gRPC: the token is checked on the metadata, before the message is read', async () => {
    const small = await startGrpcServer({ listen: '127.0.0.1:0', maxRequestBytes: 64 * 1024, handler: h.handler, logger, auth: { tokens: TOKENS } });
    try {
      const big = new Uint8Array(256 * 1024);
      assert.equal((await sendGrpcExport(small.address, big, { gzip: false })).code, grpc.status.UNAUTHENTICATED);
      const authed = await sendGrpcExport(small.address, big, { gzip: false, metadata: { authorization: `Bearer ${TOKENS[0]!}` } });
      assert.equal(authed.code, grpc.status.RESOURCE_EXHAUSTED, 'only an authenticated call gets as far as the size check');
    } finally {
      await small.close(500);
    }
  });

  void test('the server logged the refusals, and no token (right or wrong) appears in its log', () => {
    assert.match(logText, /ERR_UNAUTHENTICATED/, 'refusals are logged (rate-limited)');
    for (const t of [...TOKENS, WRONG]) assert.ok(!logText.includes(t), `log contains ${t}`);
  });
});
