/**
 * receiver.max_connections on both ports: connections past the cap are closed on arrival and counted;
 * the ones within it stay usable, and a freed slot is taken again.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, test } from 'node:test';
import { startGrpcServer } from '../../../src/receive/grpc-server.ts';
import { startHttpServer } from '../../../src/receive/http-server.ts';
import type { HealthSource, RunningServer } from '../../../src/receive/types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { counterValue } from './metric-delta.ts';
import { RecordingHandler } from './recording-handler.ts';

const health: HealthSource = { live: () => true, ready: () => ({ ready: true, reasons: [] }) };

/** Opens a TCP connection; resolves whether the server closed it within `ms`. */
async function closedWithin(address: string, ms: number): Promise<{ closed: boolean; socket: net.Socket }> {
  const [host, port] = [address.split(':')[0]!, Number(address.split(':')[1])];
  const socket = net.connect(port, host);
  socket.on('error', () => undefined);
  socket.resume();
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const closed = await Promise.race([
    new Promise<boolean>((r) => socket.once('close', () => r(true))),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
  return { closed, socket };
}

async function checkCap(srv: RunningServer, transport: 'grpc' | 'http'): Promise<void> {
  const before = await counterValue(metrics.connectionsRefused, { transport });
  const within = [];
  for (let i = 0; i < 3; i++) within.push(await closedWithin(srv.address, 200));
  assert.deepEqual(within.map((c) => c.closed), [false, false, false], 'the first 3 stay open');
  const past = await closedWithin(srv.address, 2_000);
  assert.equal(past.closed, true, 'the 4th is closed on arrival');
  assert.equal(await counterValue(metrics.connectionsRefused, { transport }) - before, 1);
  within[0]!.socket.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const again = await closedWithin(srv.address, 300);
  assert.equal(again.closed, false, 'a freed slot is taken again');
  for (const c of [...within, past, again]) c.socket.destroy();
}

void describe('connection cap', () => {
  void test('gRPC port: past receiver.max_connections a connection is closed on arrival and counted', async () => {
    const srv = await startGrpcServer({ listen: '127.0.0.1:0', handler: new RecordingHandler().handler, logger: silentLogger, maxConnections: 3 });
    try {
      await checkCap(srv, 'grpc');
    } finally {
      await srv.close(500);
    }
  });

  void test('HTTP port: the same', async () => {
    const srv = await startHttpServer({ listen: '127.0.0.1:0', handler: new RecordingHandler().handler, health, logger: silentLogger, maxConnections: 3 });
    try {
      await checkCap(srv, 'http');
    } finally {
      await srv.close(500);
    }
  });

  void test('gRPC port: a connection silent past its first-bytes deadline is closed (counted), one that spoke HTTP/2 is not', async () => {
    const srv = await startGrpcServer({ listen: '127.0.0.1:0', handler: new RecordingHandler().handler, logger: silentLogger, silentConnectionMs: 300 });
    const session = http2.connect(`http://${srv.address}`);
    session.on('error', () => undefined);
    try {
      const before = await counterValue(metrics.connectionsRefused, { transport: 'grpc', reason: 'silent' });
      const silent = await closedWithin(srv.address, 3_000);
      assert.equal(silent.closed, true, 'the silent connection is closed');
      assert.equal(await counterValue(metrics.connectionsRefused, { transport: 'grpc', reason: 'silent' }) - before, 1);
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(session.closed || session.destroyed, false, 'the HTTP/2 session stays (its idle timeout is minutes)');
    } finally {
      session.destroy();
      await srv.close(500);
    }
  });
});
