/**
 * Flood behaviour against the Keep contract server: repeats fold into one alert, the per-window
 * ceiling holds new alerts back into a digest (never silently), queue-bound drops reach the
 * digest too, and quiet alerts are resolved.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertSender, type AlertSenderOptions } from '../../../src/alert/keep-sender.ts';
import type { AlertDto } from '../../../src/alert/keep-types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { startKeepServer, type KeepServer } from '../../helpers/keep-server.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

const KEY = 'sk-keep-ceiling';

async function keep(t: TestContext): Promise<KeepServer> {
  const k = await startKeepServer({ apiKey: KEY });
  t.after(() => k.close());
  return k;
}

function sender(t: TestContext, opts: Partial<AlertSenderOptions>): AlertSender {
  const s = new AlertSender({ apiKey: KEY, minLevel: 'low', maxQueue: 100_000, timeoutMs: 2000, logger: silentLogger, retry: { baseMs: 20, maxMs: 100 }, ...opts });
  t.after(() => s.close(1000));
  return s;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Waits for the start of a fresh throttle window so a burst stays inside one. */
async function windowStart(windowMs: number): Promise<void> {
  while (Date.now() % windowMs > 20) await sleep(Math.max(1, windowMs - (Date.now() % windowMs)));
}

const isDigest = (a: AlertDto): boolean => a.labels['kind'] === 'digest';
const host = (i: number) => makeDetection({ host: `H${String(i).padStart(5, '0')}` });

void describe('dedup and ceiling', () => {
  void test('500 matches of one rule on one host within a minute → one alert with the count', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, dedupFlushMs: 50 });
    const d = makeDetection();
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) s.send({ ...d, detectedAtMs: d.detectedAtMs + i * 100, fingerprint: `rec-${i}` });
    const sendMs = performance.now() - t0;
    await until(() => k.alerts.some((a) => a.occurrences === 500), 3000, 'count 500');
    await sleep(150); // further sweeps must not re-send an unchanged count
    const fps = new Set(k.alerts.map((a) => a.fingerprint));
    assert.equal(fps.size, 1);
    assert.equal(k.alerts.length, 1, `one POSTed alert (got ${k.alerts.map((a) => a.occurrences).join(',')})`);
    const [a] = k.alerts;
    assert.equal(a!.labels['count'], '500');
    assert.match(a!.description, /\*\*Detections\*\* 500/);
    assert.equal(a!.lastReceived, new Date(d.detectedAtMs + 499 * 100).toISOString());
    assert.equal(s.stats().deduplicated, 499);
    assert.deepEqual(k.violations, []);
    t.diagnostic(`500 sends took ${sendMs.toFixed(1)} ms`);
  });

  void test('10,000 distinct alerts in a burst → at most the ceiling plus one digest counting the rest', async (t) => {
    const k = await keep(t);
    const windowMs = 3000;
    const s = sender(t, { keepUrl: k.url, maxPerWindow: 100, throttleWindowMs: windowMs });
    await windowStart(windowMs);
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) s.send(host(i));
    const sendMs = performance.now() - t0;
    assert.ok(sendMs < windowMs - 100, `burst took ${sendMs} ms, longer than the window`);
    await until(() => k.alerts.some(isDigest), windowMs + 3000, 'digest');
    await sleep(100);
    const regular = k.alerts.filter((a) => !isDigest(a));
    const digests = k.alerts.filter(isDigest);
    assert.equal(regular.length, 100);
    assert.equal(new Set(regular.map((a) => a.fingerprint)).size, 100);
    assert.equal(digests.length, 1);
    const dg = digests[0]!;
    assert.equal(dg.occurrences, 9_900);
    assert.equal(dg.labels['held_back'], '9900');
    assert.match(dg.description, /\| `Suspicious Execution of Powershell with Base64` \| `fb843269-508c-4b76-8b8d-88679db22ce7` \| warning \| 9900 \|/);
    assert.equal(dg.severity, 'warning');
    assert.equal(s.stats().throttled, 9_900);
    assert.deepEqual(k.violations, []);
    t.diagnostic(`10,000 sends took ${sendMs.toFixed(0)} ms; ${k.requests.length} POSTs`);
  });

  void test('close() sends the digest of the window in progress', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, maxPerWindow: 5, throttleWindowMs: 60_000 });
    for (let i = 0; i < 20; i++) s.send(host(i));
    await s.close(2000);
    const dg = k.alerts.filter(isDigest);
    assert.equal(k.alerts.length - dg.length, 5);
    assert.equal(dg.length, 1);
    assert.equal(dg[0]!.occurrences, 15);
    assert.deepEqual(k.violations, []);
  });

  void test('alerts pushed out of a full queue are counted into the digest, not lost', async (t) => {
    const k = await keep(t);
    k.setDown(true);
    const s = sender(t, { keepUrl: k.url, maxQueue: 10, maxBatch: 5, maxPerWindow: 0, throttleWindowMs: 500, dedupWindowMs: 0 });
    for (let i = 0; i < 30; i++) s.send(host(i));
    await until(() => s.stats().dropped > 0, 2000, 'drops');
    k.setDown(false);
    await until(() => k.alerts.some(isDigest), 3000, 'digest');
    await sleep(100);
    const regular = k.alerts.filter((a) => !isDigest(a));
    const dg = k.alerts.find(isDigest)!;
    assert.equal(regular.length + dg.occurrences, 30, `${regular.length} delivered + ${dg.occurrences} in the digest`);
    assert.equal(s.stats().dropped, dg.occurrences);
    assert.deepEqual(k.violations, []);
  });

  void test('a fingerprint quiet for resolve_after is sent as resolved (same id), once', async (t) => {
    const k = await keep(t);
    const s = sender(t, { keepUrl: k.url, dedupWindowMs: 60_000, dedupFlushMs: 20, resolveAfterMs: 150 });
    s.send(host(1));
    s.send(host(2));
    await k.waitForAlerts(2);
    for (let i = 0; i < 5; i++) {
      await sleep(50);
      s.send(host(2)); // host 2 keeps firing
    }
    await until(() => k.alerts.some((a) => a.status === 'resolved'), 2000, 'resolve');
    const resolved = k.alerts.filter((a) => a.status === 'resolved');
    assert.deepEqual(resolved.map((a) => a.service), ['H00001']);
    assert.equal(resolved[0]!.id, k.alerts[0]!.id);
    await until(() => k.alerts.filter((a) => a.status === 'resolved').length === 2, 2000, 'second resolve');
    await sleep(100);
    assert.deepEqual(k.alerts.filter((a) => a.status === 'resolved').map((a) => a.service).sort(), ['H00001', 'H00002']);
    assert.equal(s.stats().resolved, 2);
    s.send(host(1)); // fires again: a new firing alert on the same fingerprint
    await until(() => k.alerts.at(-1)?.status === 'firing', 2000, 'refire');
    assert.deepEqual(k.violations, []);
  });
});
