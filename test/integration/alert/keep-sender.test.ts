/**
 * AlertSender against the Keep contract server (real HTTP on loopback): delivery with the key,
 * level filter, batching, retries through outages, permanent rejections, shutdown flush,
 * drop-oldest, log mode and the dedup window.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { AlertSender, type AlertSenderOptions } from '../../../src/alert/keep-sender.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { startKeepServer, type KeepServer } from '../../helpers/keep-server.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

const KEY = 'sk-keep-7f3a9c';
const FAST_RETRY = { baseMs: 20, maxMs: 100 };

function sender(t: TestContext, opts: Partial<AlertSenderOptions> & { keepUrl?: string }): AlertSender {
  const s = new AlertSender({ apiKey: KEY, minLevel: 'low', maxQueue: 100, timeoutMs: 2000, logger: silentLogger, retry: FAST_RETRY, dedupWindowMs: 0, ...opts });
  t.after(() => s.close(1000));
  return s;
}

async function keep(t: TestContext, opts: Partial<Parameters<typeof startKeepServer>[0]> = {}): Promise<KeepServer> {
  const k = await startKeepServer({ apiKey: KEY, ...opts });
  t.after(() => k.close());
  return k;
}

function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const logger: Logger = pino({ level: 'info' }, stream);
  return { logger, raw: () => text, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function outcome(name: string): Promise<number> {
  const m = await metrics.alertsSent.get();
  return m.values.find((v) => v.labels['outcome'] === name)?.value ?? 0;
}

async function errorsFor(code: string): Promise<number> {
  const m = await metrics.errors.get();
  return m.values.find((v) => v.labels['stage'] === 'alert' && v.labels['code'] === code)?.value ?? 0;
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const hostN = (i: number) => makeDetection({ host: `WS${String(i).padStart(2, '0')}` });

void describe('AlertSender → Keep', () => {
  void test('delivers a contract-valid alert with the API key', async (t) => {
    const k = await keep(t);
    const before = await outcome('sent');
    const s = sender(t, { keepUrl: k.url, environment: 'prod', urlTemplate: 'https://signoz.example/logs?h={host}&from={from_ms}&to={to_ms}' });
    s.send(makeDetection({ ruleLevel: 'high' }));
    const [a] = await k.waitForAlerts(1);
    assert.deepEqual(k.violations, []);
    assert.equal(a!.severity, 'high');
    assert.equal(a!.environment, 'prod');
    assert.match(a!.url!, /^https:\/\/signoz\.example\/logs\?h=WS01\.corp\.local&from=\d+&to=\d+$/);
    await s.close(1000);
    assert.equal(s.stats().sent, 1);
    assert.equal((await outcome('sent')) - before, 1);
  });

  void test('min-level filter drops lower levels', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, minLevel: 'high' });
    for (const ruleLevel of ['informational', 'low', 'medium', 'high', 'critical'] as const) s.send(makeDetection({ ruleLevel, host: ruleLevel }));
    await s.close(2000);
    assert.deepEqual(k.alerts.map((a) => a.severity).sort(), ['critical', 'high']);
    assert.deepEqual(k.violations, []);
  });

  void test('a burst leaves as one batch; maxBatch splits it', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, maxBatch: 4 });
    for (let i = 0; i < 10; i++) s.send(hostN(i));
    await k.waitForAlerts(10);
    assert.deepEqual(k.requests.map((r) => r.alertCount), [4, 4, 2]);
    assert.deepEqual(k.alerts.map((a) => a.service), Array.from({ length: 10 }, (_, i) => `WS${String(i).padStart(2, '0')}`));
    assert.deepEqual(k.violations, []);
  });

  void test('retries through a 503 outage and honours Retry-After', async (t) => {
    const k = await keep(t, { failFirst: 2, retryAfter: '1' });
    const s = sender(t, { keepUrl: k.url });
    const t0 = Date.now();
    s.send(makeDetection());
    await k.waitForAlerts(1, 5000);
    const took = Date.now() - t0;
    assert.ok(took >= 1900, `delivered after ${took} ms, before two 1 s Retry-After waits`);
    assert.deepEqual(k.requests.map((r) => r.status), [503, 503, 202]);
    assert.equal(s.stats().retries, 2);
  });

  void test('retries while Keep is down (setDown) and delivers when it is back', async (t) => {
    const k = await keep(t);
    k.setDown(true);
    const s = sender(t, { keepUrl: k.url });
    s.send(makeDetection());
    await sleep(200);
    assert.equal(k.alerts.length, 0);
    assert.ok(k.requests.length >= 2, `only ${k.requests.length} attempts during the outage`);
    k.setDown(false);
    await k.waitForAlerts(1, 2000);
    await s.close(1000);
    assert.equal(s.stats().sent, 1);
    assert.deepEqual(k.violations, []);
  });

  void test('retries through connection refused until Keep listens again', async (t) => {
    const first = await startKeepServer({ apiKey: KEY });
    const { port, url } = first;
    await first.close();
    const s = sender(t, { keepUrl: url });
    s.send(makeDetection());
    await sleep(150);
    assert.ok(s.stats().retries >= 1);
    const k = await keep(t, { port });
    await k.waitForAlerts(1, 3000);
    assert.deepEqual(k.violations, []);
  });

  void test('request timeout is retryable: retried until the close deadline, then counted failed', async (t) => {
    const hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    t.after(() => {
      hang.closeAllConnections();
      hang.close();
    });
    const failedBefore = await outcome('failed');
    const cap = captureLogger();
    const s = sender(t, { keepUrl: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`, timeoutMs: 50, logger: cap.logger, retry: { baseMs: 10, maxMs: 20 } });
    s.send(makeDetection());
    await sleep(300);
    await s.close(100);
    assert.equal(s.stats().failed, 1);
    assert.ok(s.stats().retries >= 2);
    assert.equal((await outcome('failed')) - failedBefore, 1);
    assert.ok(cap.lines().some((l) => /Keep unavailable/.test(String(l['msg'])) && /timeout after 50 ms/.test(String(l['reason']))));
    assert.ok(cap.lines().some((l) => l['msg'] === 'Alerts not delivered before the shutdown deadline.' && l['alerts'] === 1));
  });

  void test('4xx is permanent: logged with the reason, counted, not retried, key never logged', async (t) => {
    const k = await keep(t, { apiKey: 'the-right-key' });
    const cap = captureLogger();
    const [rejBefore, authBefore] = [await outcome('rejected'), await errorsFor('ERR_UNAUTHENTICATED')];
    const s = sender(t, { keepUrl: k.url, logger: cap.logger });
    s.send(makeDetection());
    await s.close(2000);
    assert.equal(k.requests.length, 1);
    assert.equal(s.stats().rejected, 1);
    assert.equal(s.stats().retries, 0);
    assert.equal((await outcome('rejected')) - rejBefore, 1);
    assert.equal((await errorsFor('ERR_UNAUTHENTICATED')) - authBefore, 1);
    const line = cap.lines().find((l) => l['msg'] === 'Keep rejected alerts; not retrying.');
    assert.equal(line?.['status'], 401);
    assert.match(String(line?.['reason']), /HTTP 401: .*X-API-KEY/);
    assert.ok(!cap.raw().includes(KEY), 'API key leaked into the log');
  });

  void test('422 from Keep is permanent too', async (t) => {
    const k = await keep(t, { failFirst: 1, status: 422 });
    const s = sender(t, { keepUrl: k.url });
    s.send(makeDetection());
    await s.close(2000);
    assert.deepEqual(k.requests.map((r) => r.status), [422]);
    assert.equal(s.stats().rejected, 1);
  });

  void test('close() flushes what is queued, is idempotent, and later sends are dropped', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url });
    for (let i = 0; i < 3; i++) s.send(hostN(i));
    const p1 = s.close(2000);
    assert.equal(s.close(5), p1);
    await p1;
    assert.equal(k.alerts.length, 3);
    s.send(hostN(9));
    assert.equal(s.stats().dropped, 1);
    await sleep(50);
    assert.equal(k.alerts.length, 3);
  });

  void test('close() keeps its deadline while Keep is down', async (t) => {
    const k = await keep(t);
    k.setDown(true);
    const s = sender(t, { keepUrl: k.url });
    s.send(hostN(1));
    s.send(hostN(2));
    const t0 = Date.now();
    await s.close(300);
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 1500, `close took ${took} ms`);
    assert.equal(s.stats().failed, 2);
    assert.equal(k.alerts.length, 0);
  });

  void test('when the in-memory queue is full the oldest waiting alert is dropped and counted', async (t) => {
    const k = await keep(t);
    k.setDown(true);
    const before = await outcome('dropped');
    const s = sender(t, { keepUrl: k.url, maxQueue: 3, maxBatch: 1 });
    s.send(hostN(0));
    await until(() => k.requests.length > 0); // WS00 is now in flight, retrying
    for (let i = 1; i <= 5; i++) s.send(hostN(i));
    await until(() => s.stats().dropped === 2);
    assert.equal(s.stats().queued, 4, 'three waiting plus the one in flight');
    assert.equal((await outcome('dropped')) - before, 2);
    k.setDown(false);
    await k.waitForAlerts(4, 3000);
    assert.deepEqual(k.alerts.map((a) => a.service), ['WS00', 'WS03', 'WS04', 'WS05']);
  });
});

void describe('AlertSender without Keep', () => {
  void test('logs one info line per alert and never the key', async (t) => {
    const cap = captureLogger();
    const before = await outcome('logged');
    const s = sender(t, { logger: cap.logger });
    s.send(hostN(1));
    s.send(hostN(2));
    s.send(makeDetection({ ruleLevel: 'informational' }));
    await s.close(1000);
    const alerts = cap.lines().filter((l) => l['msg'] === 'Sigma alert.');
    assert.equal(alerts.length, 2);
    assert.equal(alerts[0]!['level'], 30);
    assert.equal((alerts[1]!['alert'] as { service: string }).service, 'WS02');
    assert.equal((await outcome('logged')) - before, 2);
    assert.ok(!cap.raw().includes(KEY));
  });
});

void describe('AlertSender dedup window', () => {
  void test('repeats of a fingerprint update one alert (count + lastReceived) instead of new ones', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, dedupWindowMs: 60_000, dedupFlushMs: 50 });
    const d = makeDetection();
    s.send(d);
    await k.waitForAlerts(1);
    for (let i = 1; i <= 4; i++) s.send({ ...d, detectedAtMs: d.detectedAtMs + i * 1000 });
    s.send(hostN(7)); // another host: its own alert
    const got = await k.waitForAlerts(3, 2000);
    await sleep(150);
    assert.equal(k.alerts.length, 3, 'no further updates without new detections');
    const mine = got.filter((a) => a.fingerprint === got[0]!.fingerprint);
    assert.deepEqual(mine.map((a) => [a.id, a.labels['count'], a.occurrences]), [
      [got[0]!.id, '1', 1],
      [got[0]!.id, '5', 5],
    ]);
    assert.equal(mine[1]!.lastReceived, new Date(d.detectedAtMs + 4000).toISOString());
    assert.equal(mine[1]!.firingStartTime, mine[0]!.firingStartTime);
    assert.equal(s.stats().deduplicated, 4);
    assert.deepEqual(k.violations, []);
  });

  void test('repeats queued behind an outage ride in the queued alert; close() sends pending counts', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, dedupWindowMs: 60_000, dedupFlushMs: 60_000 });
    s.send(hostN(1));
    s.send(hostN(1));
    s.send(hostN(1));
    await k.waitForAlerts(1);
    assert.equal(k.alerts[0]!.labels['count'], '3');
    s.send(hostN(1));
    await s.close(2000);
    assert.deepEqual(k.alerts.map((a) => a.labels['count']), ['3', '4']);
  });

  void test('a group dropped from a full queue stays dropped until it repeats, then carries the full count', async (t) => {
    const k = await keep(t);
    k.setDown(true);
    const s = sender(t, { keepUrl: k.url, maxQueue: 2, maxBatch: 1, dedupWindowMs: 60_000, dedupFlushMs: 20 });
    s.send(hostN(0));
    await until(() => k.requests.length > 0);
    for (const i of [1, 2, 3]) s.send(hostN(i)); // WS01 is dropped for WS03
    await sleep(100); // several sweeps
    assert.equal(s.stats().dropped, 1, 'sweeps must not re-enqueue a dropped group on their own');
    k.setDown(false);
    await k.waitForAlerts(3, 3000);
    s.send(hostN(1));
    await k.waitForAlerts(4, 3000);
    assert.deepEqual(k.alerts.map((a) => `${a.service}:${a.labels['count']}`), ['WS00:1', 'WS02:1', 'WS03:1', 'WS01:2']);
  });

  void test('after the window a repeat opens a new alert', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, dedupWindowMs: 100, dedupFlushMs: 20 });
    s.send(hostN(1));
    await k.waitForAlerts(1);
    await sleep(150);
    s.send(hostN(1));
    await k.waitForAlerts(2);
    assert.deepEqual(k.alerts.map((a) => a.labels['count']), ['1', '1']);
    assert.equal(s.stats().deduplicated, 0);
  });
});
