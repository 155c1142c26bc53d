/**
 * Never lost: alerts wait in the on-disk queue through a Keep outage, a graceful restart and a
 * SIGKILL, and reach Keep exactly once per fingerprint afterwards. One test holds Keep down for
 * the full 60 s of the issue; it is marked [60 s] in its name.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertSender, type AlertSenderOptions } from '../../../src/alert/keep-sender.ts';
import type { AlertDto } from '../../../src/alert/keep-types.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { startKeepServer, type KeepServer } from '../../helpers/keep-server.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

const KEY = 'sk-keep-outage';

function tmpDir(t: TestContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-alertq-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function keep(t: TestContext, down: boolean): Promise<KeepServer> {
  const k = await startKeepServer({ apiKey: KEY });
  k.setDown(down);
  t.after(() => k.close());
  return k;
}

function sender(t: TestContext, opts: Partial<AlertSenderOptions>): AlertSender {
  const s = new AlertSender({ apiKey: KEY, minLevel: 'low', maxQueue: 10_000, timeoutMs: 2000, logger: silentLogger, retry: { baseMs: 20, maxMs: 200 }, ...opts });
  t.after(() => s.close(500));
  return s;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

const host = (prefix: string, i: number) => makeDetection({ host: `${prefix}${String(i).padStart(3, '0')}` });

/** Fingerprint → times Keep accepted it. */
function perFingerprint(alerts: readonly AlertDto[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of alerts) m.set(a.fingerprint, (m.get(a.fingerprint) ?? 0) + 1);
  return m;
}

function assertExactlyOnce(k: KeepServer, expected: readonly string[]): void {
  const m = perFingerprint(k.alerts);
  assert.deepEqual([...m.keys()].sort(), [...expected].sort());
  const dup = [...m].filter(([, n]) => n !== 1);
  assert.deepEqual(dup, [], 'fingerprints delivered more than once');
  assert.deepEqual(k.violations, []);
}

const fpOf = (h: string): string => `sigma:fb843269-508c-4b76-8b8d-88679db22ce7:${h}`;

/** Keeps Keep down for `outageMs` while alerts (and repeats) keep coming, then brings it up. */
async function outage(t: TestContext, outageMs: number, retry: AlertSenderOptions['retry']): Promise<{ recoveredMs: number }> {
  const k = await keep(t, true);
  const s = sender(t, { keepUrl: k.url, queueDir: tmpDir(t), dedupFlushMs: Math.min(1000, outageMs / 4), retry });
  const hosts: string[] = [];
  const steps = 20;
  for (let i = 0; i < steps; i++) {
    for (let j = 0; j < 3; j++) {
      s.send(host('O', i * 3 + j));
      hosts.push(`O${String(i * 3 + j).padStart(3, '0')}`);
    }
    s.send(host('O', 0)); // repeats of one fingerprint throughout the outage
    await sleep(outageMs / steps);
  }
  assert.equal(k.alerts.length, 0);
  assert.ok(s.stats().retries >= 2, `${s.stats().retries} retries during the outage`);
  k.setDown(false);
  const up = Date.now();
  await until(() => perFingerprint(k.alerts).size === hosts.length, 10_000, 'all fingerprints');
  const recoveredMs = Date.now() - up;
  await sleep(Math.min(1500, outageMs / 2)); // a sweep or two: nothing may arrive twice
  assertExactlyOnce(k, hosts.map(fpOf));
  const o0 = k.alerts.find((a) => a.fingerprint === fpOf('O000'))!;
  assert.equal(o0.occurrences, steps + 1, 'the one alert carries every repeat');
  return { recoveredMs };
}

void describe('on-disk alert queue', () => {
  void test('Keep down for 2 s, then up → every alert delivered exactly once by fingerprint', async (t) => {
    const { recoveredMs } = await outage(t, 2000, { baseMs: 20, maxMs: 200 });
    t.diagnostic(`delivered ${recoveredMs} ms after Keep came back`);
  });

  void test('[60 s] Keep down for 60 s, then up → every alert delivered exactly once by fingerprint', async (t) => {
    const { recoveredMs } = await outage(t, 60_000, { baseMs: 100, maxMs: 2000 });
    t.diagnostic(`delivered ${recoveredMs} ms after Keep came back`);
  });

  void test('restart while Keep is down: a new sender on the same directory delivers what the old one queued', async (t) => {
    const dir = tmpDir(t);
    const k = await keep(t, true);
    const a = sender(t, { keepUrl: k.url, queueDir: dir });
    for (let i = 0; i < 25; i++) a.send(host('R', i));
    await until(() => a.stats().retries >= 1, 2000, 'first failed attempt');
    await a.close(100);
    assert.equal(a.stats().failed, 0, 'nothing is given up: it stays on disk');
    assert.equal(k.alerts.length, 0);
    k.setDown(false);
    const b = sender(t, { keepUrl: k.url, queueDir: dir });
    assert.equal(b.stats().queued, 25);
    await until(() => k.alerts.length >= 25, 3000, 'delivery after restart');
    await b.close(1000);
    assertExactlyOnce(k, Array.from({ length: 25 }, (_, i) => fpOf(`R${String(i).padStart(3, '0')}`)));
    const c = sender(t, { keepUrl: k.url, queueDir: dir });
    assert.equal(c.stats().queued, 0, 'delivered alerts are not replayed by the next start');
  });

  void test('SIGKILL while Keep is down: the next start delivers everything the killed process queued', async (t) => {
    const dir = tmpDir(t);
    const k = await keep(t, true);
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'sender-child.ts'), k.url, KEY, dir, '40'], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not report "queued" within 10 s')), 10_000);
      child.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('queued')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(k.alerts.length, 0);
    k.setDown(false);
    const s = sender(t, { keepUrl: k.url, queueDir: dir });
    await until(() => k.alerts.length >= 40, 3000, 'delivery after SIGKILL');
    await s.close(1000);
    assertExactlyOnce(k, Array.from({ length: 40 }, (_, i) => fpOf(`K${String(i).padStart(3, '0')}`)));
  });
});
