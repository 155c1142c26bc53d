/**
 * Two replicas sharing a real redis-server (started here on a free loopback port) behind one
 * Keep: one alert per fingerprint and window, counts merged, one ceiling and one digest across
 * replicas; with Redis gone, each replica falls back to local state and keeps alerting.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertSender, type AlertSenderOptions } from '../../../src/alert/keep-sender.ts';
import type { AlertDto } from '../../../src/alert/keep-types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { startKeepServer, type KeepServer } from '../../helpers/keep-server.ts';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

const KEY = 'sk-keep-replicas';

async function keep(t: TestContext): Promise<KeepServer> {
  const k = await startKeepServer({ apiKey: KEY });
  t.after(() => k.close());
  return k;
}

async function redis(t: TestContext): Promise<RedisServer> {
  const r = await startRedisServer();
  t.after(() => r.stop());
  return r;
}

async function replica(t: TestContext, opts: Partial<AlertSenderOptions>): Promise<AlertSender> {
  const s = new AlertSender({ apiKey: KEY, minLevel: 'low', maxQueue: 10_000, timeoutMs: 2000, logger: silentLogger, retry: { baseMs: 20, maxMs: 100 }, dedupFlushMs: 50, ...opts });
  t.after(() => s.close(1000));
  await s.ready();
  return s;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function windowStart(windowMs: number): Promise<void> {
  while (Date.now() % windowMs > 20) await sleep(Math.max(1, windowMs - (Date.now() % windowMs)));
}

const host = (h: string) => makeDetection({ host: h });
const isDigest = (a: AlertDto): boolean => a.labels['kind'] === 'digest';
const byFp = (alerts: readonly AlertDto[]): Map<string, AlertDto[]> => Map.groupBy(alerts, (a) => a.fingerprint);

void describe('replicas sharing Redis', () => {
  void test('the same 500 matches split over two replicas → one alert, counted 500', async (t) => {
    const [k, r] = await Promise.all([keep(t), redis(t)]);
    const a = await replica(t, { keepUrl: k.url, redisUrl: r.url });
    const b = await replica(t, { keepUrl: k.url, redisUrl: r.url });
    const d = host('WS01');
    for (let i = 0; i < 250; i++) {
      a.send({ ...d, detectedAtMs: d.detectedAtMs + i });
      b.send({ ...d, detectedAtMs: d.detectedAtMs + i });
    }
    await until(() => k.alerts.some((x) => x.occurrences === 500), 3000, 'merged count 500');
    await sleep(200);
    assert.equal(byFp(k.alerts).size, 1);
    assert.equal(k.alerts.filter((x) => x.occurrences < 500).length <= 1, true, `one first alert, then updates: ${k.alerts.map((x) => x.occurrences).join(',')}`);
    assert.equal(k.alerts.at(-1)!.occurrences, 500);
    assert.equal(Math.min(a.stats().sent, b.stats().sent), 0, 'only the replica that won the window sends');
    assert.deepEqual(k.violations, []);
  });

  void test('20 fingerprints seen by both replicas → 20 alerts, each sent first once and updated to count 2', async (t) => {
    const [k, r] = await Promise.all([keep(t), redis(t)]);
    const a = await replica(t, { keepUrl: k.url, redisUrl: r.url });
    const b = await replica(t, { keepUrl: k.url, redisUrl: r.url });
    for (let i = 0; i < 20; i++) {
      a.send(host(`H${i}`));
      b.send(host(`H${i}`));
    }
    await until(() => [...byFp(k.alerts).values()].filter((v) => v.some((x) => x.occurrences === 2)).length === 20, 3000, 'all counts 2');
    await sleep(200);
    const groups = byFp(k.alerts);
    assert.equal(groups.size, 20);
    for (const [fp, versions] of groups) assert.deepEqual(versions.map((x) => x.occurrences), [1, 2], fp);
    assert.equal(a.stats().sharedFallbacks + b.stats().sharedFallbacks, 0);
  });

  void test('the ceiling is shared: two replicas together send at most the ceiling plus one digest', async (t) => {
    const [k, r] = await Promise.all([keep(t), redis(t)]);
    const windowMs = 2000;
    const opts = { keepUrl: k.url, redisUrl: r.url, maxPerWindow: 10, throttleWindowMs: windowMs };
    const a = await replica(t, opts);
    const b = await replica(t, opts);
    await windowStart(windowMs);
    for (let i = 0; i < 30; i++) {
      a.send(host(`A${i}`));
      b.send(host(`B${i}`));
    }
    await until(() => k.alerts.some(isDigest), windowMs + 4000, 'digest');
    await sleep(1000); // the losing replica must not send a second digest
    const regular = k.alerts.filter((x) => !isDigest(x));
    const digests = k.alerts.filter(isDigest);
    assert.equal(regular.length, 10);
    assert.equal(digests.length, 1);
    assert.equal(digests[0]!.occurrences, 50);
    assert.equal(a.stats().throttled + b.stats().throttled, 50);
    assert.deepEqual(k.violations, []);
  });

  void test('close() right after send() still delivers: claims in flight are awaited', async (t) => {
    const [k, r] = await Promise.all([keep(t), redis(t)]);
    const a = await replica(t, { keepUrl: k.url, redisUrl: r.url });
    for (let i = 0; i < 3; i++) a.send(host(`C${i}`));
    await a.close(2000);
    assert.deepEqual(k.alerts.map((x) => x.service).sort(), ['C0', 'C1', 'C2']);
  });

  void test('Redis down: replicas fall back to local state, count it, and keep alerting', async (t) => {
    const [k, r] = await Promise.all([keep(t), redis(t)]);
    const a = await replica(t, { keepUrl: k.url, redisUrl: r.url, redisTimeoutMs: 200 });
    a.send(host('before'));
    await k.waitForAlerts(1);
    await r.stop();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) a.send(host(`after${i}`));
    const sendMs = performance.now() - t0;
    await k.waitForAlerts(6, 3000);
    assert.ok(a.stats().sharedFallbacks >= 5, `${a.stats().sharedFallbacks} fallbacks`);
    assert.ok(sendMs < 50, `send() blocked for ${sendMs} ms`);
    assert.deepEqual(new Set(k.alerts.map((x) => x.service)).size, 6);
    t.diagnostic(`fallbacks ${a.stats().sharedFallbacks}`);
  });

  void test('Redis unreachable from the start: alerts still go out', async (t) => {
    const k = await keep(t);
    const r = await startRedisServer();
    await r.stop(); // a port nothing listens on any more
    const a = await replica(t, { keepUrl: k.url, redisUrl: r.url, redisTimeoutMs: 100 });
    a.send(host('lonely'));
    await k.waitForAlerts(1, 3000);
    assert.ok(a.stats().sharedFallbacks >= 1);
  });
});
