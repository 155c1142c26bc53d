import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coalesce, MemoryQueue } from '../../../src/alert/alert-queue.ts';
import { LogQueue } from '../../../src/alert/log-queue.ts';
import { toAlertDto } from '../../../src/alert/keep-payload.ts';
import type { AlertDto } from '../../../src/alert/keep-types.ts';
import { makeDetection } from './detection-fixture.ts';

const alert = (i: number): AlertDto => toAlertDto(makeDetection({ host: `H${String(i).padStart(5, '0')}` }));
const hosts = (as: readonly AlertDto[]): string[] => as.map((a) => a.service ?? '');
const range = (from: number, n: number): AlertDto[] => Array.from({ length: n }, (_, i) => alert(from + i));
const ALERT_BYTES = Buffer.byteLength(`${JSON.stringify(alert(0))}\n`);

function tmpDir(t: TestContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-aq-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function drain(q: LogQueue | MemoryQueue, max = 7): Promise<AlertDto[]> {
  const out: AlertDto[] = [];
  for (let b = await q.peek(max); b; b = await q.peek(max)) {
    out.push(...b.alerts);
    await q.ack(b);
  }
  return out;
}

void describe('LogQueue', () => {
  void test('FIFO across appends and segments; peek does not remove, ack does', async (t) => {
    const dir = tmpDir(t);
    const q = new LogQueue(dir, 64 * 1024, () => assert.fail('nothing should be dropped'));
    for (let i = 0; i < 10; i++) await q.append(range(i * 3, 3));
    assert.equal(q.length, 30);
    const b = await q.peek(4);
    const n = b!.alerts.length; // whole bursts, within one segment
    assert.equal(n, 3);
    assert.deepEqual(hosts(b!.alerts), hosts(range(0, n)));
    assert.deepEqual(hosts((await q.peek(4))!.alerts), hosts(range(0, n)), 'peek again: same batch');
    await q.ack(b!);
    assert.equal(q.length, 30 - n);
    assert.deepEqual(hosts(await drain(q)), hosts(range(n, 30 - n)));
    assert.equal(q.length, 0);
    assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.wal')).length <= 1, 'delivered segments are deleted');
    await q.close();
  });

  void test('survives a reopen: only unacked alerts come back, in order, and appends continue after them', async (t) => {
    const dir = tmpDir(t);
    const q1 = new LogQueue(dir, 1024 * 1024, () => undefined);
    await q1.append(range(0, 3)); // one burst = one record: acks are per burst
    await q1.append(range(3, 2));
    await q1.append(range(5, 5));
    await q1.ack((await q1.peek(3))!);
    await q1.close();
    const q2 = new LogQueue(dir, 1024 * 1024, () => undefined);
    assert.equal(q2.length, 7);
    await q2.append(range(10, 2));
    await q2.close();
    const q3 = new LogQueue(dir, 1024 * 1024, () => undefined);
    assert.deepEqual(hosts(await drain(q3)), hosts(range(3, 9)));
    await q3.close();
    const q4 = new LogQueue(dir, 1024 * 1024, () => undefined);
    assert.equal(q4.length, 0, 'everything acked stays acked');
    await q4.append(range(50, 1));
    await q4.close();
    assert.deepEqual(hosts(await drain(new LogQueue(dir, 1024 * 1024, () => undefined))), hosts(range(50, 1)), 'a fresh segment after an empty queue is not mistaken for a delivered one');
  });

  void test('a torn last record (crash mid-write) is cut off on open; complete ones survive', async (t) => {
    const dir = tmpDir(t);
    const q = new LogQueue(dir, 1024 * 1024, () => undefined);
    await q.append(range(0, 3));
    await q.close();
    const seg = fs.readdirSync(dir).find((f) => f.endsWith('.wal'))!;
    fs.appendFileSync(path.join(dir, seg), Buffer.from('4f535731ffff0000', 'hex'));
    const q2 = new LogQueue(dir, 1024 * 1024, () => undefined);
    assert.equal(q2.length, 3);
    await q2.append(range(3, 1));
    assert.deepEqual(hosts(await drain(q2)), hosts(range(0, 4)));
    assert.equal(q2.corrupt, 0);
    await q2.close();
  });

  void test('bounded by bytes: the oldest segments are dropped and handed to onDrop', async (t) => {
    const dir = tmpDir(t);
    const dropped: AlertDto[] = [];
    const max = ALERT_BYTES * 200;
    const q = new LogQueue(dir, max, (as) => dropped.push(...as));
    for (let i = 0; i < 100; i++) await q.append(range(i * 5, 5));
    assert.ok(dropped.length >= 300 && dropped.length < 500, `dropped ${dropped.length}`);
    const kept = await drain(q, 100);
    assert.equal(dropped.length + kept.length, 500, 'every alert is either kept or reported dropped');
    assert.deepEqual(hosts([...dropped, ...kept]), hosts(range(0, 500)), 'oldest first');
    const total = fs.readdirSync(dir).filter((f) => f.endsWith('.wal')).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    assert.ok(total <= max + ALERT_BYTES * 10, `files hold ${total} bytes`);
    assert.ok(q.length === 0);
    await q.close();
  });

  void test('an ack for a batch the bound already dropped is ignored', async (t) => {
    const dir = tmpDir(t);
    const dropped: AlertDto[] = [];
    const q = new LogQueue(dir, 64 * 1024, (as) => dropped.push(...as));
    const quarter = Math.floor((16 * 1024) / ALERT_BYTES);
    await q.append(range(0, quarter));
    const inFlight = await q.peek(5);
    for (let i = 1; i < 12; i++) await q.append(range(i * quarter, quarter)); // pushes the first segment out
    assert.ok(dropped.length >= 5);
    const before = q.length;
    await q.ack(inFlight!);
    assert.equal(q.length, before);
    await q.close();
  });

  void test('a single append larger than the bound is dropped whole', async (t) => {
    const dropped: AlertDto[] = [];
    const q = new LogQueue(tmpDir(t), 64 * 1024, (as) => dropped.push(...as));
    const n = Math.ceil((100 * 1024) / ALERT_BYTES);
    await q.append(range(0, n));
    assert.equal(dropped.length, n);
    assert.equal(q.length, 0);
    await q.close();
  });
});

void describe('LogQueue lock', () => {
  void test('one queue per directory; a lock left by a dead process is taken over; close releases it', async (t) => {
    const dir = tmpDir(t);
    const q = new LogQueue(dir, 1024 * 1024, () => undefined);
    assert.throws(() => new LogQueue(dir, 1024 * 1024, () => undefined), (e: Error & { code?: string }) => e.code === 'ERR_CONFIG' && /in use/.test(e.message));
    await q.close();
    const q2 = new LogQueue(dir, 1024 * 1024, () => undefined);
    await q2.close();
    assert.ok(!fs.existsSync(path.join(dir, 'lock.pid')));
    fs.writeFileSync(path.join(dir, 'lock.pid'), '2147483646'); // no such process
    const q3 = new LogQueue(dir, 1024 * 1024, () => undefined);
    assert.equal(fs.readFileSync(path.join(dir, 'lock.pid'), 'utf8'), String(process.pid));
    await q3.close();
    fs.writeFileSync(path.join(dir, 'lock.pid'), String(process.ppid)); // a live process
    assert.throws(() => new LogQueue(dir, 1024 * 1024, () => undefined), new RegExp(`in use by another process \\(pid ${process.ppid}\\)`));
  });
});

void describe('MemoryQueue', () => {
  void test('bounded by count, drops the oldest waiting alerts but never the batch in flight', async () => {
    const dropped: AlertDto[] = [];
    const q = new MemoryQueue(3, (as) => dropped.push(...as));
    await q.append(range(0, 2));
    const b = await q.peek(1);
    await q.append(range(2, 4));
    assert.deepEqual(hosts(dropped), hosts(range(1, 2)));
    await q.ack(b!);
    assert.deepEqual(hosts(await drain(q)), hosts(range(3, 3)));
  });
});

void describe('coalesce', () => {
  void test('keeps the newest version per fingerprint, in order of last appearance', () => {
    const a = alert(1);
    const a2 = { ...a, occurrences: 2 };
    const b = alert(2);
    assert.deepEqual(coalesce([a, b, a2]), [b, a2]);
  });
});
