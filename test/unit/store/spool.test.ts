import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isPipelineError } from '../../../src/errors.ts';
import { Spool, type SpooledBatch } from '../../../src/store/spool.ts';
import { decodeRecord, encodeRecord, parseRows, scanSegment } from '../../../src/store/spool-record.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';

const root = fs.mkdtempSync(path.join(tmpdir(), 'otel-sigma-spool-unit-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => path.join(root, `s${++n}`);

const body = (i: number, rows = 3): string => Array.from({ length: rows }, (_, j) => `${JSON.stringify({ fingerprint: `fp-${i}-${j}`, body: `row ${i}.${j} ü\n"x"` })}\n`).join('');

async function drain(spool: Spool, max = Infinity): Promise<SpooledBatch[]> {
  const out: SpooledBatch[] = [];
  while (out.length < max) {
    const b = await spool.peek();
    if (!b) break;
    out.push(b);
    await spool.ack(b);
  }
  return out;
}

const segments = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.spool')).sort();

async function gauge(g: typeof metrics.spoolBytes): Promise<number> {
  return (await g.get()).values[0]?.value ?? Number.NaN;
}

void describe('spool record format', () => {
  void test('round-trips token, row count and body; a flipped bit or a cut is detected', () => {
    const rec = encodeRecord('tok-1', 3, body(1));
    const d = decodeRecord(rec)!;
    assert.equal(d.token, 'tok-1');
    assert.equal(d.rows, 3);
    assert.equal(d.body.toString('utf8'), body(1));
    assert.deepEqual(parseRows(d.body).map((r) => (r as { fingerprint: string }).fingerprint), ['fp-1-0', 'fp-1-1', 'fp-1-2']);
    const flipped = Buffer.from(rec);
    flipped[rec.length - 5]! ^= 0x01;
    assert.equal(decodeRecord(flipped), undefined);
    assert.equal(decodeRecord(rec.subarray(0, rec.length - 1)), undefined);
    const two = Buffer.concat([rec, encodeRecord('tok-2', 3, body(2))]);
    assert.deepEqual(scanSegment(two).ends, [rec.length, two.length]);
    assert.equal(scanSegment(two.subarray(0, two.length - 7)).validBytes, rec.length);
  });
});

void describe('Spool', () => {
  void test('replays batches in append order, across segment files, and deletes replayed segments', async () => {
    const dir = freshDir();
    const spool = new Spool({ dir, maxBytes: 10 * 1024 * 1024, segmentBytes: 1024 });
    for (let i = 0; i < 20; i++) await spool.append(`tok-${i}`, 3, body(i));
    assert.equal(spool.batches, 20);
    assert.ok(segments(dir).length > 3, `${segments(dir).length} segments`);
    assert.equal(await gauge(metrics.spoolBatches), 20);
    assert.equal(await gauge(metrics.spoolBytes), spool.bytes);
    const got = await drain(spool, 12);
    assert.deepEqual(got.map((b) => b.token), Array.from({ length: 12 }, (_, i) => `tok-${i}`));
    assert.equal(spool.batches, 8);
    // Interleaved appends land behind the older batches.
    await spool.append('tok-20', 3, body(20));
    const rest = await drain(spool);
    assert.deepEqual(rest.map((b) => b.token), Array.from({ length: 9 }, (_, i) => `tok-${i + 12}`));
    assert.ok(spool.empty);
    assert.equal(spool.bytes, 0);
    assert.deepEqual(segments(dir), []);
    assert.equal(await gauge(metrics.spoolBytes), 0);
    await spool.close();
  });

  void test('after a restart, continues from the cursor: acked batches are not replayed again', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024, segmentBytes: 700 });
    for (let i = 0; i < 10; i++) await a.append(`tok-${i}`, 3, body(i));
    await drain(a, 4);
    await a.close();
    const b = new Spool({ dir, maxBytes: 1024 * 1024, segmentBytes: 700 });
    assert.equal(b.batches, 6);
    await b.append('tok-10', 3, body(10));
    assert.deepEqual((await drain(b)).map((x) => x.token), ['tok-4', 'tok-5', 'tok-6', 'tok-7', 'tok-8', 'tok-9', 'tok-10']);
    await b.close();
  });

  void test('a torn last record (crash mid-append) is cut off; every complete record survives', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 5; i++) await a.append(`tok-${i}`, 3, body(i));
    await a.close();
    const [seg] = segments(dir);
    const file = path.join(dir, seg!);
    const size = fs.statSync(file).size;
    // Half of a sixth record, as a SIGKILL between write() and fdatasync() would leave it.
    const sixth = encodeRecord('tok-5', 3, body(5));
    fs.appendFileSync(file, sixth.subarray(0, Math.floor(sixth.length / 2)));
    const b = new Spool({ dir, maxBytes: 1024 * 1024 });
    assert.equal(b.truncatedBytes, Math.floor(sixth.length / 2));
    assert.equal(fs.statSync(file).size, size);
    await b.append('tok-6', 3, body(6));
    assert.deepEqual((await drain(b)).map((x) => x.token), ['tok-0', 'tok-1', 'tok-2', 'tok-3', 'tok-4', 'tok-6']);
    await b.close();
  });

  void test('a complete-length record with a bad checksum at the tail is cut off too', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024 });
    await a.append('tok-0', 3, body(0));
    await a.append('tok-1', 3, body(1));
    await a.close();
    const file = path.join(dir, segments(dir)[0]!);
    const data = fs.readFileSync(file);
    data[data.length - 3]! ^= 0xff; // garbage where the last page was only partly written
    fs.writeFileSync(file, data);
    const b = new Spool({ dir, maxBytes: 1024 * 1024 });
    assert.equal(b.batches, 1);
    assert.deepEqual((await drain(b)).map((x) => x.token), ['tok-0']);
    await b.close();
  });

  void test('rejects with retryable ERR_BACKPRESSURE when full, and accepts again once replayed', async () => {
    const dir = freshDir();
    const rec = encodeRecord('tok-0', 3, body(0)).length;
    const spool = new Spool({ dir, maxBytes: rec * 3 + 10, segmentBytes: rec });
    for (let i = 0; i < 3; i++) await spool.append(`tok-${i}`, 3, body(i));
    await assert.rejects(spool.append('tok-3', 3, body(3)), (e: unknown) => isPipelineError(e) && e.code === 'ERR_BACKPRESSURE' && e.retryable);
    assert.equal(spool.batches, 3);
    assert.ok(spool.bytes <= rec * 3 + 10);
    await drain(spool, 1);
    await spool.append('tok-3', 3, body(3));
    assert.deepEqual((await drain(spool)).map((x) => x.token), ['tok-1', 'tok-2', 'tok-3']);
    await spool.close();
  });

  void test('consecutive records are handed out as one group; after a crash before its ack, the same group (same token) comes back', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 5; i++) await a.append(`tok-${i}`, 3, body(i));
    const g = (await a.peek(12))!;
    assert.equal(g.records, 4, 'up to maxRows rows');
    assert.equal(g.rows, 12);
    assert.equal(g.body.toString('utf8'), [0, 1, 2, 3].map((i) => body(i)).join(''));
    assert.match(g.token, /^[0-9a-f]{64}$/);
    assert.deepEqual(await a.peek(12), g, 'peek without ack returns the same group');
    await a.append('tok-5', 3, body(5)); // arrives after the group was formed, before the crash
    await a.close(); // crash: never acked
    const b = new Spool({ dir, maxBytes: 1024 * 1024 });
    const again = (await b.peek(1000))!;
    assert.deepEqual({ ...again, body: again.body.toString() }, { ...g, body: g.body.toString() }, 'the group is re-formed exactly, not grown to maxRows');
    await b.ack(again);
    const next = (await b.peek(1000))!;
    assert.equal(next.records, 2);
    assert.equal(next.body.toString('utf8'), body(4) + body(5));
    await b.ack(next);
    assert.ok(b.empty);
    await b.close();
  });

  void test('a group of one record keeps the record\'s own token', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024 });
    await a.append('tok-solo', 3, body(1));
    assert.equal((await a.peek(5000))!.token, 'tok-solo');
    await a.close();
  });

  void test('a record tried before it was spooled is replayed alone, with its own token', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024 });
    await a.append('tok-a', 3, body(0), true);
    await a.append('tok-b', 3, body(1));
    await a.append('tok-c', 3, body(2));
    await a.append('tok-d', 3, body(3), true);
    await a.append('tok-e', 3, body(4));
    await a.close();
    const b = new Spool({ dir, maxBytes: 1024 * 1024 }); // the flag survives a restart
    const groups: SpooledBatch[] = [];
    for (let g = await b.peek(5000); g; g = await b.peek(5000)) {
      groups.push(g);
      await b.ack(g);
    }
    assert.deepEqual(groups.map((g) => g.records), [1, 2, 1, 1]);
    assert.equal(groups[0]!.token, 'tok-a');
    assert.equal(groups[2]!.token, 'tok-d');
    assert.equal(groups[1]!.body.toString('utf8'), body(1) + body(2));
    await b.close();
  });

  void test('one owner per spool: a live process\'s lock is refused, a dead one\'s is taken over', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'lock.pid'), String(process.ppid)); // alive, and not us
    assert.throws(() => new Spool({ dir, maxBytes: 1 << 20 }), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && e.message.includes(`pid ${process.ppid}`));
    fs.writeFileSync(path.join(dir, 'lock.pid'), String(2 ** 22 + 4321)); // above any pid_max: dead
    const s = new Spool({ dir, maxBytes: 1 << 20 });
    assert.equal(fs.readFileSync(path.join(dir, 'lock.pid'), 'utf8'), String(process.pid));
    await s.close();
    assert.ok(!fs.existsSync(path.join(dir, 'lock.pid')));
  });

  void test('a stale segment the cursor has passed (deleted too late) is removed on open, not replayed', async () => {
    const dir = freshDir();
    const a = new Spool({ dir, maxBytes: 1024 * 1024, segmentBytes: 10 });
    for (let i = 0; i < 3; i++) await a.append(`tok-${i}`, 3, body(i));
    const first = segments(dir)[0]!;
    const copy = fs.readFileSync(path.join(dir, first));
    await drain(a, 2);
    await a.close();
    fs.writeFileSync(path.join(dir, first), copy); // as if the process died between cursor write and unlink
    const b = new Spool({ dir, maxBytes: 1024 * 1024, segmentBytes: 10 });
    assert.deepEqual((await drain(b)).map((x) => x.token), ['tok-2']);
    assert.ok(!fs.existsSync(path.join(dir, first)));
    await b.close();
  });
});
