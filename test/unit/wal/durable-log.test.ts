import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isPipelineError } from '../../../src/errors.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { DurableLog, type DurableLogOptions } from '../../../src/wal/durable-log.ts';

const root = fs.mkdtempSync(path.join(tmpdir(), 'otel-sigma-wal-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => path.join(root, `log-${++n}`);

function open(dir: string, over: Partial<DurableLogOptions> = {}): DurableLog {
  return new DurableLog({ dir, name: `test-${n}`, maxBytes: 64 * 1024 * 1024, whenFull: 'refuse', ...over });
}

async function drain(log: DurableLog): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const b = await log.peek(1000, 1 << 20);
    if (b === undefined) return out;
    out.push(...b.payloads.map((p) => p.toString()));
    await log.ack(b);
  }
}

async function commits(name: string): Promise<number> {
  const { values } = await metrics.walCommits.get();
  return values.filter((v) => v.labels['log'] === name).reduce((s, v) => s + v.value, 0);
}

void describe('DurableLog', () => {
  void test('group commit: concurrent appends share fsyncs; order and content survive a reopen', async () => {
    const dir = freshDir();
    const log = open(dir);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(Buffer.from(`r${i}`))));
    const c = await commits(`test-${n}`);
    assert.ok(c >= 1 && c < 200, `200 appends in ${c} commits`);
    assert.equal(log.records, 200);
    await log.close();
    const again = open(dir);
    assert.deepEqual(await drain(again), Array.from({ length: 200 }, (_, i) => `r${i}`));
    await again.close();
  });

  void test('ack is durable: a reopen hands out only what was not acked, then appends continue after it', async () => {
    const dir = freshDir();
    const log = open(dir, { segmentBytes: 64 * 1024 });
    for (let i = 0; i < 50; i++) await log.append(Buffer.alloc(4000, i));
    const first = await log.peek(10, 1 << 20);
    assert.equal(first?.payloads.length, 10);
    await log.ack(first);
    await log.close();
    const again = open(dir, { segmentBytes: 64 * 1024 });
    assert.equal(again.records, 40);
    await again.append(Buffer.from('tail'));
    const rest = await drain(again);
    assert.equal(rest.length, 41);
    assert.equal(rest[0]![0], '\u000a'); // record 10 (Buffer.alloc(4000, 10)) comes first
    assert.equal(rest.at(-1), 'tail');
    await again.close();
    // Fully consumed segments are removed.
    assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.wal')).length <= 1);
  });

  void test('a pinned batch is re-formed exactly after a crash, even when more records arrived behind it', async () => {
    const dir = freshDir();
    const log = open(dir);
    for (let i = 0; i < 5; i++) await log.append(Buffer.from(`a${i}`));
    const b = await log.peek(3, 1 << 20);
    await log.pin(b!);
    for (let i = 0; i < 5; i++) await log.append(Buffer.from(`b${i}`));
    await log.close(); // no ack: as if killed after pinning
    const again = open(dir);
    const re = await again.peek(1000, 1 << 20);
    assert.equal(re?.id, b!.id);
    assert.deepEqual(re?.payloads.map(String), ['a0', 'a1', 'a2']);
    assert.equal(again.id, log.id, 'the log id is kept for the directory');
    await again.ack(re);
    assert.deepEqual(await drain(again), ['a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
    await again.close();
  });

  void test('a torn tail (crash mid-commit) is cut at recovery; every complete record before it survives', async () => {
    const dir = freshDir();
    const log = open(dir);
    for (let i = 0; i < 10; i++) await log.append(Buffer.from(`ok${i}`));
    await log.close();
    const seg = fs.readdirSync(dir).find((f) => f.endsWith('.wal'))!;
    const file = path.join(dir, seg);
    const good = fs.statSync(file).size;
    // A record header that promises more than was written, then a corrupt one.
    const torn = Buffer.alloc(40, 0xab);
    torn.writeUInt32LE(0x3157534f, 0);
    torn.writeUInt32LE(1000, 4);
    fs.appendFileSync(file, torn);
    const again = open(dir);
    assert.equal(fs.statSync(file).size, good);
    assert.deepEqual(await drain(again), Array.from({ length: 10 }, (_, i) => `ok${i}`));
    await again.close();
  });

  void test('a corrupted byte inside the last record drops only that record, and a later commit never follows garbage', async () => {
    const dir = freshDir();
    const log = open(dir);
    await log.append(Buffer.from('first'));
    await log.append(Buffer.from('second'));
    await log.close();
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.wal'))!);
    const data = fs.readFileSync(file);
    data[data.length - 1] = data[data.length - 1]! ^ 0xff;
    fs.writeFileSync(file, data);
    const again = open(dir);
    await again.append(Buffer.from('third'));
    await again.close();
    const third = open(dir);
    assert.deepEqual(await drain(third), ['first', 'third']);
    await third.close();
  });

  void test("'refuse': a full log rejects with a retryable ERR_BACKPRESSURE and accepts again once consumed", async () => {
    const log = open(freshDir(), { maxBytes: 64 * 1024 });
    await log.append(Buffer.alloc(40 * 1024));
    await assert.rejects(log.append(Buffer.alloc(40 * 1024)), (e) => isPipelineError(e) && e.code === 'ERR_BACKPRESSURE' && e.retryable && /full/.test(e.message));
    await drain(log);
    await log.append(Buffer.alloc(40 * 1024));
    await log.close();
  });

  void test("'drop-oldest': whole oldest segments go to onDrop to stay within the bound", async () => {
    const dropped: string[] = [];
    const log = open(freshDir(), { maxBytes: 64 * 1024, segmentBytes: 16 * 1024, whenFull: 'drop-oldest', onDrop: (p) => dropped.push(...p.map((b) => b.subarray(0, 4).toString())) });
    for (let i = 0; i < 40; i++) await log.append(Buffer.from(`${String(i).padStart(4, '0')}${'x'.repeat(4000)}`));
    assert.ok(log.bytes <= 64 * 1024 + 4100, `bytes ${log.bytes}`);
    const kept = (await drain(log)).map((s) => s.slice(0, 4));
    assert.deepEqual([...dropped, ...kept], Array.from({ length: 40 }, (_, i) => String(i).padStart(4, '0')), 'dropped oldest first, nothing lost silently');
    assert.ok(dropped.length > 0);
    await log.close();
  });

  void test('one owner per directory', async () => {
    const dir = freshDir();
    const log = open(dir);
    assert.throws(() => open(dir), (e) => isPipelineError(e) && e.code === 'ERR_CONFIG' && /in use/.test(e.message));
    await log.close();
    const again = open(dir);
    await again.close();
  });
});
