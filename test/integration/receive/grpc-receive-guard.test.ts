/**
 * What a gRPC call may hold while its message arrives (issue 17 items 6 and 10c), driven over raw HTTP/2 so
 * a call can stop half-way through its message: stalled calls are ended and reset after the receive
 * timeout, bytes of unfinished messages stay within the port's budget and are given back, and a message
 * flagged gzip that is not gzip is INVALID_ARGUMENT (grpc-js alone answers INTERNAL, which collectors treat
 * like a bug). These also fail if a grpc-js upgrade moves the internals the guard reaches.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { BodyBudget } from '../../../src/receive/body-budget.ts';
import { LOGS_EXPORT_PATH, startGrpcServer } from '../../../src/receive/grpc-server.ts';
import type { RunningServer } from '../../../src/receive/types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { decodeRpcStatus, sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { counterValue } from './metric-delta.ts';
import { RecordingHandler, sampleRequest } from './recording-handler.ts';

interface RawOutcome {
  /** grpc-status from the headers (trailers-only response) or trailers; undefined when the stream died without one. */
  grpcStatus: number | undefined;
  message: string;
  details: Buffer | undefined;
  /** The server reset the stream (RST_STREAM) rather than leaving it half-open. */
  rstCode: number;
  ms: number;
}

/** One call on `session`: a gRPC frame header announcing `declared` bytes, then `send` (possibly fewer), never ending unless `end`. */
function rawCall(session: http2.ClientHttp2Session, o: { flag: 0 | 1; declared: number; send: Buffer; end: boolean; encoding?: string }): Promise<RawOutcome> {
  const t0 = performance.now();
  const req = session.request({
    ':method': 'POST', ':path': LOGS_EXPORT_PATH, 'content-type': 'application/grpc', te: 'trailers',
    ...(o.encoding !== undefined ? { 'grpc-encoding': o.encoding } : {}),
  });
  const head = Buffer.alloc(5);
  head.writeUInt8(o.flag, 0);
  head.writeUInt32BE(o.declared, 1);
  req.write(Buffer.concat([head, o.send]));
  if (o.end) req.end();
  return new Promise((resolve) => {
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => { headers = h; });
    req.on('trailers', (t) => { headers = { ...headers, ...t }; });
    req.on('error', () => undefined);
    req.resume();
    req.on('close', () => {
      const bin = headers['grpc-status-details-bin'];
      resolve({
        grpcStatus: headers['grpc-status'] === undefined ? undefined : Number(headers['grpc-status']),
        message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
        details: typeof bin === 'string' ? Buffer.from(bin, 'base64') : undefined,
        rstCode: req.rstCode ?? 0,
        ms: performance.now() - t0,
      });
    });
  });
}

void describe('gRPC receive guard', () => {
  const h = new RecordingHandler();
  const budget = new BodyBudget(1024 * 1024);
  let srv: RunningServer;
  const sessions: http2.ClientHttp2Session[] = [];
  before(async () => {
    srv = await startGrpcServer({ listen: '127.0.0.1:0', handler: h.handler, logger: silentLogger, receiveTimeoutMs: 400, receiveBudget: budget });
  });
  after(async () => {
    for (const s of sessions) s.destroy();
    await srv.close(1_000);
  });
  const connect = (): http2.ClientHttp2Session => {
    const session = http2.connect(`http://${srv.address}`);
    session.on('error', () => undefined);
    sessions.push(session);
    return session;
  };

  void test('a message flagged gzip that is not gzip → INVALID_ARGUMENT naming the encoding, counted as ERR_DECOMPRESS', async () => {
    const s = connect();
    const refused = await counterValue(metrics.errors, { stage: 'receive', code: 'ERR_DECOMPRESS' });
    const garbage = Buffer.from('this is not gzip at all, just bytes');
    const r = await rawCall(s, { flag: 1, declared: garbage.length, send: garbage, end: true, encoding: 'gzip' });
    assert.equal(r.grpcStatus, status.INVALID_ARGUMENT, r.message);
    assert.match(r.message, /cannot gzip-decode/);
    assert.equal(await counterValue(metrics.errors, { stage: 'receive', code: 'ERR_DECOMPRESS' }), refused + 1);
    assert.equal(h.calls.length, 0, 'the handler never saw it');
    // A real gzip message on the same port still goes through grpc-js's own inflate.
    const ok = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(2)), { gzip: true });
    assert.equal(ok.code, status.OK, ok.details);
  });

  void test('400 calls that stall half-way through their message are ended after the receive timeout, reset, and give their bytes back', async () => {
    // 50 per connection: grpc-js allows 64 calls at once on one.
    const conns = Array.from({ length: 8 }, () => connect());
    const cutBefore = await counterValue(metrics.uploadsCut, { transport: 'grpc', reason: 'receive_timeout' });
    const handled = h.calls.length;
    const calls = Array.from({ length: 400 }, (_, i) => rawCall(conns[i % 8]!, { flag: 0, declared: 100_000, send: Buffer.alloc(2_000, 1), end: false }));
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(budget.used > 0 && budget.used <= budget.maxBytes, `partial messages are held within the budget (${budget.used})`);
    const outcomes = await Promise.all(calls);
    const retryable = outcomes.filter((o) => o.grpcStatus === status.RESOURCE_EXHAUSTED && o.details !== undefined && decodeRpcStatus(o.details).retryDelaySeconds !== undefined);
    assert.equal(retryable.length, 400, `every stalled call ends RESOURCE_EXHAUSTED with RetryInfo: ${JSON.stringify(outcomes.slice(0, 2))}`);
    // The client never ends its side: the stream closes only because the server resets it (NO_ERROR: the response is complete).
    assert.ok(outcomes.every((o) => o.rstCode === http2.constants.NGHTTP2_NO_ERROR), 'and its stream is reset, not left half-open');
    assert.ok(Math.max(...outcomes.map((o) => o.ms)) < 5_000, 'within the timeout (400 ms) plus scheduling');
    const timedOut = (await counterValue(metrics.uploadsCut, { transport: 'grpc', reason: 'receive_timeout' })) - cutBefore;
    const overBudget = await counterValue(metrics.uploadsCut, { transport: 'grpc', reason: 'receive_budget' });
    assert.equal(timedOut + overBudget, 400, 'each counted once');
    assert.equal(budget.used, 0, 'every byte given back');
    assert.equal(h.calls.length, handled, 'none reached the handler');
  });

  void test('a call that would cross the budget is ended at once (retryable) while the others wait; complete calls pass', async () => {
    const s = connect();
    const before = await counterValue(metrics.uploadsCut, { transport: 'grpc', reason: 'receive_budget' });
    // 700 KB + 700 KB of a 1 MiB budget: the second crosses it.
    const first = rawCall(s, { flag: 0, declared: 1_000_000, send: Buffer.alloc(700_000, 1), end: false });
    await new Promise((r) => setTimeout(r, 50));
    const second = await rawCall(s, { flag: 0, declared: 1_000_000, send: Buffer.alloc(700_000, 2), end: false });
    assert.equal(second.grpcStatus, status.RESOURCE_EXHAUSTED, second.message);
    assert.match(second.message, /budget/);
    assert.ok(second.ms < 350, `refused before the receive timeout (${Math.round(second.ms)} ms)`);
    assert.equal(await counterValue(metrics.uploadsCut, { transport: 'grpc', reason: 'receive_budget' }), before + 1);
    const ok = await sendGrpcExport(srv.address, otlpJsonToProtobuf(sampleRequest(50)), { gzip: false });
    assert.equal(ok.code, status.OK, 'a small complete call still fits beside the stalled one');
    assert.equal((await first).grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.equal(budget.used, 0);
  });
});
