import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { DetectionWriter, type DetectionWriterOptions } from '../../../src/store/detection-writer.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { FaultyConnection, type FaultPlan } from '../../helpers/faulty-connection.ts';
import { makeDetection, makeDetections } from './make-detection.ts';

const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-writer-'));
const chdbDir = join(dir, 'chdb');
const DB = 'otel_sigma';
let ch: ClickHouseHandle;
let tableSeq = 0;
const toClose: { close(): Promise<void> }[] = [];

before(() => {
  ch = openClickHouse({ dataDir: chdbDir });
});
after(async () => {
  for (const c of toClose) await c.close();
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

async function freshTable(): Promise<string> {
  const table = `detections_${++tableSeq}`;
  await migrate(ch.client, { database: DB, table, ttlDays: 0 });
  return table;
}

/** A client on the same embedded directory whose inserts go through a FaultyConnection. */
function faultyClient(plan: FaultPlan): { client: ClickHouseClient; faults: FaultyConnection } {
  const faults = new FaultyConnection(createChdbConnection({ path: chdbDir }), plan);
  const client = createClient({ connection: faults.asInjected(), log: { level: ClickHouseLogLevel.OFF } });
  toClose.push(client);
  return { client, faults };
}

function writer(table: string, over: Partial<DetectionWriterOptions> = {}): DetectionWriter {
  const w = new DetectionWriter({ client: ch.client, database: DB, table, flushIntervalMs: 20, retryBaseMs: 5, retryMaxDelayMs: 20, ...over });
  toClose.push(w);
  return w;
}

async function count(table: string): Promise<number> {
  const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${DB}.${table}`, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n);
}

async function counterValue(c: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await c.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((s, v) => s + v.value, 0);
}

const permanentError = (): Error => Object.assign(new Error('Code: 117. DB::Exception: Incorrect data (injected)'), { code: '117', type: 'INCORRECT_DATA' });

void describe('DetectionWriter', () => {
  test('a batch whose events span more than 100 days (a replayed or backfilled log) is stored, not retried forever', async () => {
    const table = await freshTable();
    const w = writer(table, { maxRetryMs: 2_000 });
    const day = 86_400_000;
    // One partition per day of event_time: ClickHouse refuses an insert block touching over 100 partitions by default.
    const rows = Array.from({ length: 150 }, (_, i) => makeDetection({ eventTimeNs: String(BigInt(Date.now() - (i + 1) * day) * 1_000_000n) }));
    await w.write(rows);
    assert.equal(await count(table), 150);
  });

  void test('stores every column faithfully: ns timestamps, maps, arrays, unicode, a 2 MB body', async () => {
    const table = await freshTable();
    const w = writer(table);
    const huge = 'x'.repeat(2 * 1024 * 1024 - 3) + 'end';
    const d1 = makeDetection({
      eventTimeNs: '1795313919422456789',
      detectedAtMs: 1795313919999,
      ruleTitle: 'Ünïcödé 日本語 🎉 "quotes" \\ back',
      ruleTags: ['attack.t1059', 'cve.2021-44228', 'tlp.white'],
      matched: { 'Image|endswith': '\\cmd.exe', 'CommandLine': "a'b\"c\n\td", 'Ключ': 'значение' },
      body: huge,
      logAttributes: { 'a.b': '1', '': 'empty key', 'nul': 'a\u0000b' },
      resourceAttributes: {},
      severityText: 'ERROR',
      severityNumber: 17,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      source: 'hunt',
    });
    const d2 = makeDetection({ body: 'lone surrogate \ud800 here', ruleTags: [] });
    await w.write([d1, d2]);

    const rs = await ch.client.query({
      query: `SELECT *, toString(toUnixTimestamp64Nano(event_time)) AS ns, toUnixTimestamp64Milli(detected_at) AS ms FROM ${DB}.${table} ORDER BY fingerprint`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    const rows = await rs.json<Record<string, unknown>>();
    const byFp = new Map(rows.map((r) => [r['fingerprint'], r]));
    const r1 = byFp.get(d1.fingerprint)!;
    assert.equal(r1['ns'], '1795313919422456789');
    assert.equal(r1['event_time'], '2026-11-22 02:18:39.422456789');
    assert.equal(Number(r1['ms']), 1795313919999);
    assert.equal(r1['rule_id'], d1.ruleId);
    assert.equal(r1['rule_title'], d1.ruleTitle);
    assert.equal(r1['rule_level'], 'high');
    assert.equal(r1['rule_status'], 'test');
    assert.deepEqual(r1['rule_tags'], d1.ruleTags);
    assert.equal(r1['product'], 'windows');
    assert.equal(r1['category'], 'process_creation');
    assert.equal(r1['service'], '');
    assert.equal(r1['host'], d1.host);
    assert.deepEqual(r1['matched'], d1.matched);
    assert.equal(r1['sigma_event'], d1.sigmaEvent);
    assert.equal((r1['body'] as string).length, huge.length);
    assert.equal(r1['body'], huge);
    assert.deepEqual(r1['log_attributes'], d1.logAttributes);
    assert.deepEqual(r1['resource_attributes'], {});
    assert.equal(r1['severity_text'], 'ERROR');
    assert.equal(r1['severity_number'], 17);
    assert.equal(r1['trace_id'], d1.traceId);
    assert.equal(r1['span_id'], d1.spanId);
    assert.equal(r1['source'], 'hunt');
    const r2 = byFp.get(d2.fingerprint)!;
    assert.equal(r2['body'], 'lone surrogate \ufffd here', 'a lone surrogate must not fail the batch');
    assert.deepEqual(r2['rule_tags'], []);
  });

  void test('many write() calls become few inserts; each write resolves once stored', async () => {
    const table = await freshTable();
    const { client, faults } = faultyClient({ failInserts: 0 });
    const w = writer(table, { client, batchRows: 250, flushIntervalMs: 50 });
    const rowsBefore = await counterValue(metrics.storeRows);
    await Promise.all(Array.from({ length: 1000 }, () => w.write([makeDetection()])));
    assert.equal(await count(table), 1000);
    assert.ok(faults.insertAttempts >= 4 && faults.insertAttempts <= 6, `${faults.insertAttempts} inserts for 1000 writes`);
    assert.equal((await counterValue(metrics.storeRows)) - rowsBefore, 1000);
    assert.equal(w.pendingRows, 0);
  });

  void test('a small write is flushed after flushIntervalMs', async () => {
    const table = await freshTable();
    const w = writer(table, { batchRows: 5000, flushIntervalMs: 30 });
    const t0 = performance.now();
    await w.write(makeDetections(3));
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(await count(table), 3);
  });

  void test('re-inserting the same batch (same fingerprints, same token) stores it once', async () => {
    const table = await freshTable();
    const w = writer(table);
    const batch = makeDetections(20);
    await w.write(batch);
    // A replay re-evaluates the same records later: same fingerprints, different detected_at, so
    // only the token (not ClickHouse's content hash) can recognise it.
    await w.write(batch.map((d) => ({ ...d, detectedAtMs: d.detectedAtMs + 60_000 })));
    assert.equal(await count(table), 20);
    await w.write(makeDetections(5)); // different fingerprints: stored
    assert.equal(await count(table), 25);
  });

  void test('retries retryable network errors and stores the rows exactly once', async () => {
    const table = await freshTable();
    const { client, faults } = faultyClient({ failInserts: 3 });
    const w = writer(table, { client });
    const failuresBefore = await counterValue(metrics.storeFailures, { retryable: 'true' });
    await w.write(makeDetections(40));
    assert.equal(faults.insertFailures, 3);
    assert.equal(faults.insertAttempts, 4);
    assert.equal(await count(table), 40);
    assert.equal((await counterValue(metrics.storeFailures, { retryable: 'true' })) - failuresBefore, 3);
  });

  void test('an insert that landed but lost its reply is retried without duplicating rows', async () => {
    const table = await freshTable();
    const { client, faults } = faultyClient({ failInserts: 2, when: 'after' });
    const w = writer(table, { client });
    await w.write(makeDetections(30));
    assert.equal(faults.insertAttempts, 3, 'every attempt reached the table');
    assert.equal(await count(table), 30);
  });

  void test('gives up after maxRetryMs with a retryable ERR_STORE', async () => {
    const table = await freshTable();
    const { client, faults } = faultyClient({ failInserts: 1_000_000 });
    const w = writer(table, { client, maxRetryMs: 150 });
    const t0 = performance.now();
    await assert.rejects(w.write(makeDetections(2)), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && e.retryable);
    assert.ok(performance.now() - t0 < 1500);
    assert.ok(faults.insertAttempts > 1);
    assert.equal(await count(table), 0);
    assert.equal(w.pendingRows, 0);
  });

  void test('a permanent error (unknown table) fails at once and is not retryable', async () => {
    const w = writer('no_such_table', { maxRetryMs: 10_000 });
    const t0 = performance.now();
    await assert.rejects(w.write(makeDetections(1)), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && !e.retryable && /code 60/.test(e.message));
    assert.ok(performance.now() - t0 < 2000);
  });

  void test('a permanent error on a combined batch re-tries each write on its own', async () => {
    const table = await freshTable();
    const { client, faults } = faultyClient({ failInserts: 1, error: permanentError });
    const w = writer(table, { client, flushIntervalMs: 50 });
    await Promise.all([w.write(makeDetections(3)), w.write(makeDetections(4))]);
    assert.equal(faults.insertAttempts, 3, 'one failed combined insert, then one per write');
    assert.equal(await count(table), 7);
  });

  void test('rejects with retryable ERR_BACKPRESSURE when the buffer is full; flush() stores the rest', async () => {
    const table = await freshTable();
    const w = writer(table, { batchRows: 100, flushIntervalMs: 60_000, maxBufferedRows: 10 });
    const first = w.write(makeDetections(8));
    assert.equal(w.pendingRows, 8);
    assert.equal(await counterValue(metrics.queueDepth, { queue: 'store' }), 8);
    await assert.rejects(w.write(makeDetections(5)), (e: unknown) => isPipelineError(e) && e.code === 'ERR_BACKPRESSURE' && e.retryable && e.retryAfterSeconds === 1);
    const second = w.write(makeDetections(2)); // fills the buffer exactly: accepted
    assert.equal(w.pendingRows, 10);
    await w.flush();
    await Promise.all([first, second]);
    assert.equal(await count(table), 10);
    assert.equal(await counterValue(metrics.queueDepth, { queue: 'store' }), 0);
    // One write larger than the whole buffer is accepted when nothing else is pending, else it could never succeed.
    const oversize = w.write(makeDetections(15));
    await w.flush();
    await oversize;
    assert.equal(await count(table), 25);
  });

  void test('close() flushes, is idempotent, and later writes are refused', async () => {
    const table = await freshTable();
    const w = writer(table, { flushIntervalMs: 60_000 });
    const pending = w.write(makeDetections(6));
    await Promise.all([w.close(), w.close()]);
    await pending;
    assert.equal(await count(table), 6);
    await assert.rejects(w.write(makeDetections(1)), (e: unknown) => isPipelineError(e) && e.code === 'ERR_SHUTTING_DOWN');
    await w.flush();
  });
});
