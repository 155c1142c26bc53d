import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Detection } from '../../../src/detect/detection.ts';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { toInsertRow } from '../../../src/store/detection-row.ts';
import { DetectionWriter, type DetectionWriterOptions } from '../../../src/store/detection-writer.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { Spool } from '../../../src/store/spool.ts';
import { parseRows } from '../../../src/store/spool-record.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { makeDetection, makeDetections } from './make-detection.ts';
import { OutageConnection } from './outage-connection.ts';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'otel-sigma-spool-'));
const chdbDir = path.join(dir, 'chdb');
const DB = 'otel_sigma';
let ch: ClickHouseHandle;
let seq = 0;
const toClose: { close(): Promise<void> }[] = [];

before(() => {
  ch = openClickHouse({ dataDir: chdbDir });
});
after(async () => {
  for (const c of toClose.reverse()) await c.close();
  await ch.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fresh(): Promise<{ table: string; spoolDir: string }> {
  const table = `detections_${++seq}`;
  await migrate(ch.client, { database: DB, table, ttlDays: 0 });
  return { table, spoolDir: path.join(dir, `spool_${seq}`) };
}

function outageClient(): { client: ClickHouseClient; conn: OutageConnection } {
  const conn = new OutageConnection(createChdbConnection({ path: chdbDir }));
  const client = createClient({ connection: conn.asInjected(), log: { level: ClickHouseLogLevel.OFF } });
  toClose.push(client);
  return { client, conn };
}

function writer(table: string, over: Partial<DetectionWriterOptions>): DetectionWriter {
  const w = new DetectionWriter({ client: ch.client, database: DB, table, flushIntervalMs: 20, retryBaseMs: 5, retryMaxDelayMs: 100, spoolAfterMs: 200, ...over });
  toClose.push(w);
  return w;
}

/** Rows, distinct fingerprints, and how many rows each fingerprint has. */
async function stored(table: string): Promise<{ rows: number; fps: Map<string, number> }> {
  const rs = await ch.client.query({ query: `SELECT fingerprint, count() AS n FROM ${DB}.${table} GROUP BY fingerprint`, format: 'JSONEachRow' });
  const fps = new Map((await rs.json<{ fingerprint: string; n: string | number }>()).map((r) => [r.fingerprint, Number(r.n)]));
  return { rows: [...fps.values()].reduce((a, b) => a + b, 0), fps };
}

function assertExactlyOnce(got: { rows: number; fps: Map<string, number> }, expected: readonly Detection[]): void {
  for (const d of expected) assert.equal(got.fps.get(d.fingerprint), 1, `${d.fingerprint} stored ${got.fps.get(d.fingerprint) ?? 0} times`);
  assert.equal(got.rows, expected.length);
}

/** First arrival of each fingerprint at the table, in insert order (a deduplicated re-insert arrives again). */
function arrivalOrder(conn: OutageConnection): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const fp of conn.landed.flat()) {
    if (!seen.has(fp)) out.push(fp);
    seen.add(fp);
  }
  return out;
}

async function counter(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}

const tokenOf = (ds: readonly Detection[]): string => {
  const h = createHash('sha256');
  for (const d of ds) h.update(d.fingerprint).update('\n');
  return h.digest('hex');
};
const jsonEachRow = (ds: readonly Detection[]): string => ds.map((d) => `${JSON.stringify(toInsertRow(d))}\n`).join('');

void describe('DetectionWriter with a spool', () => {
  void test('a 3 s outage: writes resolve from the spool, then every detection is stored once, in arrival order', async () => {
    const { table, spoolDir } = await fresh();
    const { client, conn } = outageClient();
    const w = writer(table, { client, spoolDir, batchRows: 40 });
    const appendedBefore = await counter(metrics.spoolAppended);
    const replayedBefore = await counter(metrics.spoolReplayed);
    conn.down(3000);
    const all: Detection[] = [];
    const writes: Promise<void>[] = [];
    const t0 = performance.now();
    let maxAckMs = 0;
    while (performance.now() - t0 < 4500) {
      const ds = makeDetections(10);
      all.push(...ds);
      const t = performance.now();
      writes.push(w.write(ds).then(() => void (maxAckMs = Math.max(maxAckMs, performance.now() - t))));
      await new Promise((r) => setTimeout(r, 25));
    }
    await Promise.all(writes); // none rejected: acknowledged = stored or spooled
    await w.spoolDrained();
    await w.flush();
    assert.ok((await counter(metrics.spoolAppended)) - appendedBefore > 5, 'the outage sent batches to the spool');
    assert.ok(conn.insertFailures > 0);
    assertExactlyOnce(await stored(table), all);
    assert.deepEqual(arrivalOrder(conn), all.map((d) => d.fingerprint), 'ClickHouse received the rows in write() order');
    assert.equal(w.spooledBatches, 0);
    assert.ok((await counter(metrics.spoolReplayed)) - replayedBefore > 5);
    assert.equal(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.spool')).length, 0, 'replayed segments are deleted');
    assert.ok(maxAckMs < 3000, `longest acknowledgement took ${Math.round(maxAckMs)} ms`);
  });

  void test('inserts that landed but lost their reply are spooled and replayed without duplicates', async () => {
    const { table, spoolDir } = await fresh();
    const { client, conn } = outageClient();
    conn.when = 'after';
    const w = writer(table, { client, spoolDir, batchRows: 25 });
    conn.down(1500);
    const all = makeDetections(200);
    await Promise.all(Array.from({ length: 20 }, (_, i) => w.write(all.slice(i * 10, i * 10 + 10))));
    await w.spoolDrained();
    assert.ok(conn.insertFailures > 0);
    assertExactlyOnce(await stored(table), all);
  });

  void test('a spool left by an earlier writer is replayed on start-up, ahead of new writes', async () => {
    const { table, spoolDir } = await fresh();
    const { client, conn } = outageClient();
    conn.down();
    const w1 = writer(table, { client, spoolDir, spoolAfterMs: 0 });
    const old = makeDetections(30);
    for (let i = 0; i < 3; i++) await w1.write(old.slice(i * 10, i * 10 + 10));
    assert.equal(w1.spooledBatches, 3);
    await w1.close();
    assert.equal((await stored(table)).rows, 0);

    conn.up();
    const w2 = writer(table, { client, spoolDir });
    const fresh2 = makeDetections(10);
    await w2.write(fresh2);
    await w2.spoolDrained();
    assertExactlyOnce(await stored(table), [...old, ...fresh2]);
    assert.deepEqual(arrivalOrder(conn), [...old, ...fresh2].map((d) => d.fingerprint));
  });

  void test('close() during an outage puts the buffered rows into the spool', async () => {
    const { table, spoolDir } = await fresh();
    const { client, conn } = outageClient();
    conn.down();
    const w1 = writer(table, { client, spoolDir, flushIntervalMs: 60_000, spoolAfterMs: 100 });
    const ds = makeDetections(7);
    const pending = w1.write(ds);
    await w1.close();
    await pending;
    assert.equal(new Spool({ dir: spoolDir, maxBytes: 1 << 20 }).batches, 1);
    conn.up();
    const w2 = writer(table, { client, spoolDir });
    await w2.spoolDrained();
    assertExactlyOnce(await stored(table), ds);
  });

  void test('a batch whose insert landed before a crash, but was never acked in the spool, is not stored twice', async () => {
    const { table, spoolDir } = await fresh();
    const ds = makeDetections(12);
    const token = tokenOf(ds);
    const spool = new Spool({ dir: spoolDir, maxBytes: 1 << 20 });
    await spool.append(token, ds.length, jsonEachRow(ds));
    await spool.close();
    // What the replayer did just before the crash: the insert, with the batch's token.
    await ch.client.insert({ table: `${DB}.${table}`, values: ds.map(toInsertRow), format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: token } });
    const w = writer(table, { spoolDir });
    await w.spoolDrained();
    assert.equal(w.spooledBatches, 0);
    assertExactlyOnce(await stored(table), ds);
  });

  void test('a replay group whose insert landed before a crash, but was never acked, is not stored twice', async () => {
    const { table, spoolDir } = await fresh();
    const parts = [makeDetections(4), makeDetections(6), makeDetections(5)];
    const spool = new Spool({ dir: spoolDir, maxBytes: 1 << 20 });
    for (const ds of parts) await spool.append(tokenOf(ds), ds.length, jsonEachRow(ds));
    // What the replayer did just before the crash: take the group, insert it with the group's token.
    const group = (await spool.peek(5000))!;
    assert.equal(group.records, 3);
    await ch.client.insert({ table: `${DB}.${table}`, values: parseRows(group.body), format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: group.token } });
    await spool.close();
    const w = writer(table, { spoolDir });
    await w.spoolDrained();
    assertExactlyOnce(await stored(table), parts.flat());
  });

  void test('a full spool rejects writes with retryable ERR_BACKPRESSURE; what it took is stored later', async () => {
    const { table, spoolDir } = await fresh();
    const { client, conn } = outageClient();
    conn.down();
    const w = writer(table, { client, spoolDir, spoolAfterMs: 0, spoolMaxBytes: 64 * 1024, spoolSegmentBytes: 8 * 1024 });
    const accepted: Detection[] = [];
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const ds = makeDetections(5);
      try {
        await w.write(ds);
        accepted.push(...ds);
      } catch (e) {
        refused = e;
      }
    }
    assert.ok(isPipelineError(refused) && refused.code === 'ERR_BACKPRESSURE' && refused.retryable, String(refused));
    assert.ok(accepted.length > 20);
    const onDisk = fs.readdirSync(spoolDir).filter((f) => f.endsWith('.spool')).reduce((s, f) => s + fs.statSync(path.join(spoolDir, f)).size, 0);
    assert.ok(onDisk <= 64 * 1024, `${onDisk} bytes on disk`);
    conn.up();
    await w.spoolDrained();
    assertExactlyOnce(await stored(table), accepted);
  });

  void test('rows ClickHouse refuses as bad data go to dead-letter/ and do not block the spool', async () => {
    const { table, spoolDir } = await fresh();
    const good1 = makeDetections(5);
    const mixed = makeDetections(8);
    const good3 = makeDetections(4);
    const spool = new Spool({ dir: spoolDir, maxBytes: 1 << 20 });
    await spool.append(tokenOf(good1), 5, jsonEachRow(good1));
    const mixedRows = mixed.map(toInsertRow);
    mixedRows[5] = { ...mixedRows[5]!, event_time: 'not a time at all' };
    await spool.append(tokenOf(mixed), 8, mixedRows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await spool.append(tokenOf(good3), 4, jsonEachRow(good3));
    await spool.close();
    const deadBefore = await counter(metrics.storeDeadLetter);
    const replayedBefore = await counter(metrics.spoolReplayed);

    const w = writer(table, { spoolDir });
    await w.spoolDrained();
    const goodMixed = mixed.filter((_, i) => i !== 5);
    assertExactlyOnce(await stored(table), [...good1, ...goodMixed, ...good3]);
    assert.equal((await counter(metrics.storeDeadLetter)) - deadBefore, 1);
    assert.equal((await counter(metrics.spoolReplayed)) - replayedBefore, 3);
    const deadDir = path.join(spoolDir, 'dead-letter');
    const files = fs.readdirSync(deadDir).sort();
    assert.equal(files.length, 2, files.join());
    const rowsFile = files.find((f) => f.endsWith('.ndjson'))!;
    const dead = fs.readFileSync(path.join(deadDir, rowsFile), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { fingerprint: string });
    assert.deepEqual(dead.map((r) => r.fingerprint), [mixed[5]!.fingerprint]);
    assert.match(fs.readFileSync(path.join(deadDir, files.find((f) => f.endsWith('.reasons.txt'))!), 'utf8'), /^row 1: ClickHouse code (6|27|38|41|72|117): .*event_time/);
    assert.equal(w.spooledBatches, 0);
    assert.equal(await counter(metrics.spoolBatches), 0);
  });

  void test('without spoolDir an outage still fails the write after maxRetryMs (unchanged behaviour)', async () => {
    const { table } = await fresh();
    const { client, conn } = outageClient();
    conn.down();
    const w = writer(table, { client, maxRetryMs: 100 });
    await assert.rejects(w.write([makeDetection()]), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && e.retryable);
    assert.equal(w.spooledBatches, 0);
  });
});
