import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { DetectionWriter, type DetectionWriterOptions } from '../../../src/store/detection-writer.ts';
import { toDetectionRow, toEventRow, ValueLimit } from '../../../src/store/detection-row.ts';
import { DurableLog } from '../../../src/wal/durable-log.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';
import { FaultyConnection, type FaultPlan } from '../../helpers/faulty-connection.ts';
import { makeDetection, makeDetections } from './make-detection.ts';
import { OutageConnection } from './outage-connection.ts';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'otel-sigma-writer-'));
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

async function freshTable(): Promise<{ table: string; logDir: string }> {
  const table = `detections_${++seq}`;
  await migrate(ch.client, { database: DB, table, ttlDays: 0 });
  return { table, logDir: path.join(dir, `log-${seq}`) };
}

function client(conn: FaultyConnection | OutageConnection): ClickHouseClient {
  const c = createClient({ connection: conn.asInjected(), log: { level: ClickHouseLogLevel.OFF } });
  toClose.push(c);
  return c;
}

const outage = (): OutageConnection => new OutageConnection(createChdbConnection({ path: chdbDir }));
const faulty = (plan: FaultPlan): FaultyConnection => new FaultyConnection(createChdbConnection({ path: chdbDir }), plan);

function writer(t: { table: string; logDir: string }, over: Partial<DetectionWriterOptions> = {}): DetectionWriter {
  // The embedded engine's own insert path unless a test injects a faulty client (which goes through its exec).
  const insert = over.client === undefined ? { insertRows: ch.insertJsonRows } : {};
  const w = new DetectionWriter({ client: ch.client, ...insert, database: DB, table: t.table, logDir: t.logDir, retryBaseMs: 5, retryMaxDelayMs: 20, ...over });
  toClose.push(w);
  return w;
}

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.client.query({ query, format: 'JSONEachRow', clickhouse_settings: { date_time_output_format: 'simple' } })).json<T>();
}

async function fingerprintCounts(table: string): Promise<Map<string, number>> {
  const r = await rows<{ fingerprint: string; n: string }>(`SELECT fingerprint, count() AS n FROM ${DB}.${table} GROUP BY fingerprint`);
  return new Map(r.map((x) => [x.fingerprint, Number(x.n)]));
}

async function metricValue(m: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await m.get()).values.reduce((s, v) => s + v.value, 0);
}

void describe('DetectionWriter', () => {
  void test('one row per detection, one event row per record however many rules fired on it', async () => {
    const t = await freshTable();
    const w = writer(t);
    const a = makeDetection({ event: { body: 'shared record', sigmaEvent: '{"CommandLine":"whoami /all"}', traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), logAttributes: { 'event.id': '4688' } } });
    const sameRecord = [a, { ...makeDetection(), event: a.event, eventTimeNs: a.eventTimeNs, host: a.host }, { ...makeDetection(), event: a.event, eventTimeNs: a.eventTimeNs, host: a.host }];
    const other = makeDetection();
    assert.equal(await w.write([...sameRecord, other, other]), 4, 'write answers how many it logged: a detection twice in a write once');
    assert.equal(await w.write([other]), 0, 'one stored moments ago is not logged again');
    await w.stored();
    const dets = await rows<{ fingerprint: string; event_id: string; event_time: string; rule_tags: string[]; matched: Record<string, string>; truncated: number; correlation_type: string }>(
      `SELECT fingerprint, event_id, event_time, rule_tags, matched, truncated, correlation_type FROM ${DB}.${t.table}`);
    assert.equal(dets.length, 4);
    assert.equal(dets.filter((d) => d.event_id === a.event.id).length, 3);
    const stored = dets.find((d) => d.fingerprint === a.fingerprint)!;
    assert.deepEqual(stored.rule_tags, a.ruleTags);
    assert.deepEqual(stored.matched, a.matched);
    assert.equal(stored.truncated, 0);
    assert.equal(stored.correlation_type, '');
    assert.equal(stored.event_time.replace(/\D/g, '').slice(-9), a.eventTimeNs.slice(-9), 'nanoseconds survive');
    const events = await rows<{ event_id: string; body: string; sigma_event: string; trace_id: string; span_id: string; log_attributes: Record<string, string> }>(
      `SELECT event_id, body, sigma_event, trace_id, span_id, log_attributes FROM ${DB}.${t.table}_events ORDER BY event_id`);
    assert.equal(events.length, 2);
    const ev = events.find((e) => e.event_id === a.event.id)!;
    assert.equal(ev.body, 'shared record');
    assert.equal(JSON.parse(ev.sigma_event).CommandLine, 'whoami /all');
    assert.equal(ev.trace_id, a.event.traceId);
    assert.deepEqual(ev.log_attributes, { 'event.id': '4688' });
  });

  void test('a detection log written before an upgrade (its header line unpadded) is inserted by the new writer, exactly once', async () => {
    const t = await freshTable();
    // The record as the previous writer built it: header JSON, detection rows, event rows, each line joined as one string.
    const dets = makeDetections(5);
    const limit = new ValueLimit(1 << 20);
    const d = dets.map((x) => `${JSON.stringify(toDetectionRow(x, limit))}\n`).join('');
    const e = dets.map((x) => `${JSON.stringify(toEventRow(x.event, x.detectedAtMs, limit))}\n`).join('');
    const header = { d: Buffer.byteLength(d), rows: dets.length, events: dets.length, at: Date.now() };
    const old = new DurableLog({ dir: t.logDir, name: 'detections', maxBytes: 1 << 30, whenFull: 'refuse' });
    await old.append(Buffer.from(`${JSON.stringify(header)}\n${d}${e}`));
    await old.close();
    const w = writer(t);
    await w.stored();
    const counts = await fingerprintCounts(t.table);
    assert.deepEqual([...counts.keys()].sort(), dets.map((x) => x.fingerprint).sort());
    assert.ok([...counts.values()].every((n) => n === 1));
    const events = await rows<{ n: string }>(`SELECT count() AS n FROM ${DB}.${t.table}_events`);
    assert.equal(Number(events[0]!.n), 5);
  });

  void test('writes resolve while ClickHouse is down; once it is back every detection is stored exactly once, in order', async () => {
    const t = await freshTable();
    const conn = outage();
    conn.when = 'alternate'; // half the failed inserts land and lose their reply
    conn.down();
    const w = writer(t, { client: client(conn) });
    const written: string[] = [];
    for (let i = 0; i < 40; i++) {
      const batch = makeDetections(25);
      await w.write(batch); // durable in the log, not in ClickHouse
      written.push(...batch.map((d) => d.fingerprint));
    }
    assert.ok(w.backlog > 0);
    assert.equal(w.healthy, false, 'not healthy while inserts fail');
    conn.up();
    await w.stored();
    assert.equal(w.backlog, 0);
    const counts = await fingerprintCounts(t.table);
    assert.equal(counts.size, written.length);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'no duplicates');
    const landedOrder = conn.landed.flat().filter((f, i, all) => all.indexOf(f) === i);
    assert.deepEqual(landedOrder, written, 'inserted in arrival order');
    assert.equal(w.healthy, true);
  });

  void test('a log whose progress cannot be recorded (its directory removed under it) is retried, never crashes the process, and stores once', async () => {
    const t = await freshTable();
    const conn = outage();
    conn.down();
    const w = writer(t, { client: client(conn) });
    const batch = makeDetections(10);
    await w.write(batch); // durable; the insert loop has pinned it and retries while ClickHouse is down
    await new Promise((r) => setTimeout(r, 50));
    fs.rmSync(t.logDir, { recursive: true, force: true }); // the open segment stays readable, the cursor cannot be written
    const storeErrors = async () => (await metrics.errors.get()).values.filter((v) => v.labels['stage'] === 'store').reduce((n, v) => n + v.value, 0);
    const before = await storeErrors();
    conn.up();
    await new Promise((r) => setTimeout(r, 1_500));
    assert.ok((await storeErrors()) > before, 'the failed cursor write is counted');
    const counts = await fingerprintCounts(t.table);
    assert.deepEqual([...counts.values()], batch.map(() => 1), 'stored, each once');
  });

  void test('a restart inserts what the log holds, exactly once even when an insert had landed before the crash', async () => {
    const t = await freshTable();
    const conn = outage();
    conn.when = 'after'; // every insert lands, then its reply is lost
    conn.down();
    const first = new DetectionWriter({ client: client(conn), database: DB, table: t.table, logDir: t.logDir, retryBaseMs: 5, retryMaxDelayMs: 20 });
    const written = makeDetections(300);
    for (let i = 0; i < 300; i += 30) await first.write(written.slice(i, i + 30));
    await new Promise((r) => setTimeout(r, 100)); // some batches land meanwhile
    await first.close(0); // leaves the log as a crash would (nothing acked)
    assert.ok(conn.landed.length > 0, 'some inserts reached the table before the "crash"');
    const second = writer(t);
    await second.stored();
    const counts = await fingerprintCounts(t.table);
    assert.equal(counts.size, 300);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), []);
    const events = await rows<{ n: string }>(`SELECT count() AS n, uniqExact(event_id) AS u FROM ${DB}.${t.table}_events HAVING n = u`);
    assert.equal(events.length, 1, 'event rows not duplicated either');
  });

  void test('a full log answers a retryable ERR_BACKPRESSURE and accepts again once ClickHouse drains it', async () => {
    const t = await freshTable();
    const conn = outage();
    conn.down();
    const w = writer(t, { client: client(conn), maxLogBytes: 1024 * 1024 });
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      try {
        await w.write(makeDetections(20, { event: { body: 'y'.repeat(2000) } }));
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(isPipelineError(refused) && refused.code === 'ERR_BACKPRESSURE' && refused.retryable, `refused with ${String(refused)}`);
    assert.equal(w.healthy, false);
    conn.up();
    await w.stored();
    await w.write(makeDetections(5));
    await w.stored();
  });

  void test('the same (rule, record) in concurrent writes is stored once', async () => {
    const t = await freshTable();
    const w = writer(t);
    const shared = makeDetections(30);
    const writes = Array.from({ length: 4 }, () => w.write([...shared, ...makeDetections(5)]));
    await Promise.all(writes);
    await w.stored();
    const counts = await fingerprintCounts(t.table);
    assert.equal(counts.size, 30 + 4 * 5);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), []);
  });

  void test('a detection left to a concurrent write whose append is refused is stored by the write that acknowledged it', async () => {
    const t = await freshTable();
    const conn = outage();
    conn.down();
    const w = writer(t, { client: client(conn), maxLogBytes: 1024 * 1024 });
    await w.write([makeDetection()]); // an empty log takes any one write; one waiting makes the bound bite
    const shared = makeDetection();
    // The first write is too big for the log and is refused; the second, concurrent one carries the same detection.
    const big = w.write([shared, ...makeDetections(3, { event: { body: 'z'.repeat(600_000) } })]);
    const small = w.write([shared, makeDetection()]);
    await assert.rejects(big, (err: unknown) => isPipelineError(err) && err.code === 'ERR_BACKPRESSURE');
    await small;
    conn.up();
    await w.stored();
    const counts = await fingerprintCounts(t.table);
    assert.equal(counts.get(shared.fingerprint), 1);
    assert.equal(counts.size, 3);
  });

  void test('500 distinct event days in one request are one part per table, not one per day', async () => {
    const t = await freshTable();
    const w = writer(t);
    const day = 86_400_000n * 1_000_000n;
    const dets = Array.from({ length: 500 }, (_, i) => makeDetection({ eventTimeNs: String(BigInt(i) * 37n * day + 1n) }));
    await w.write(dets);
    await w.stored();
    const days = await rows<{ d: string }>(`SELECT uniqExact(toDate(event_time)) AS d FROM ${DB}.${t.table}`);
    assert.equal(Number(days[0]!.d), 500);
    for (const table of [t.table, `${t.table}_events`]) {
      const parts = await rows<{ n: string }>(`SELECT count() AS n FROM system.parts WHERE database = '${DB}' AND table = '${table}' AND active`);
      assert.equal(Number(parts[0]!.n), 1, `${table}: one part`);
    }
  });

  void test('inserts are paced: writes arriving within the interval go in one insert; stored() and close() do not wait for it', async () => {
    const t = await freshTable();
    const inserts: string[] = [];
    const counting: DetectionWriterOptions['insertRows'] = async (table, chunks, settings) => {
      inserts.push(table);
      await ch.insertJsonRows(table, chunks, settings);
    };
    const w = writer(t, { insertRows: counting, insertIntervalMs: 60_000 });
    await w.write([makeDetection()]);
    await w.stored(); // a waiter: inserted at once, not a minute later
    assert.equal(inserts.length, 2, 'one insert per table');
    // The loop now waits out the interval: these three writes are one batch.
    for (let i = 0; i < 3; i++) await w.write([makeDetection()]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(inserts.length, 2, 'nothing inserted within the interval');
    const t0 = performance.now();
    await w.stored();
    assert.ok(performance.now() - t0 < 10_000, 'stored() cuts the wait short');
    assert.equal(inserts.length, 4, 'the three writes in one insert per table');
    assert.equal((await fingerprintCounts(t.table)).size, 4);
    await w.write([makeDetection()]);
    const t1 = performance.now();
    await w.close(30_000);
    assert.ok(performance.now() - t1 < 10_000, 'close() inserts what the log holds without waiting out the interval');
    assert.equal((await fingerprintCounts(t.table)).size, 5);
  });

  void test('the same (rule, record) twice is stored once (a sender retrying an answered request)', async () => {
    const t = await freshTable();
    const w = writer(t);
    const d = makeDetections(10);
    const before = await metricValue(metrics.storeDuplicates);
    await w.write(d);
    await w.write(d);
    await w.stored();
    assert.equal((await fingerprintCounts(t.table)).size, 10);
    assert.equal([...(await fingerprintCounts(t.table)).values()].reduce((a, b) => a + b), 10);
    assert.equal((await metricValue(metrics.storeDuplicates)) - before, 10);
  });

  void test('storeBody false: event rows hold the Sigma event and an empty body; detections are unchanged', async () => {
    const t = await freshTable();
    const w = writer(t, { storeBody: false });
    const d = makeDetection({ event: { body: '{"event_data":{"CommandLine":"whoami /all"}}', sigmaEvent: '{"CommandLine":"whoami /all"}' } });
    await w.write([d]);
    await w.stored();
    const [ev] = await rows<{ body: string; sigma_event: string }>(`SELECT body, sigma_event FROM ${DB}.${t.table}_events`);
    assert.equal(ev!.body, '');
    assert.equal(JSON.parse(ev!.sigma_event).CommandLine, 'whoami /all');
    const [det] = await rows<{ fingerprint: string; event_id: string }>(`SELECT fingerprint, event_id FROM ${DB}.${t.table}`);
    assert.deepEqual(det, { fingerprint: d.fingerprint, event_id: d.event.id });
  });

  void test('an oversize value is stored cut and flagged, not refused', async () => {
    const t = await freshTable();
    const w = writer(t, { maxValueBytes: 4096 });
    const d = makeDetection({ matched: { CommandLine: 'é'.repeat(10_000) }, event: { body: 'b'.repeat(100_000) } });
    await w.write([d]);
    await w.stored();
    const [det] = await rows<{ len: string; truncated: number }>(`SELECT length(matched['CommandLine']) AS len, truncated FROM ${DB}.${t.table}`);
    assert.ok(Number(det!.len) <= 4096 && Number(det!.len) > 4000, `matched cut to ${det!.len} bytes`);
    assert.equal(det!.truncated, 1);
    const [ev] = await rows<{ len: string; truncated: number }>(`SELECT length(body) AS len, truncated FROM ${DB}.${t.table}_events`);
    assert.equal(Number(ev!.len), 4096);
    assert.equal(ev!.truncated, 1);
  });

  void test('data ClickHouse refuses: retried one request at a time; what it refuses alone is dead-lettered, the rest stored', async () => {
    const t = await freshTable();
    const refused = (): Error => Object.assign(new Error('Cannot parse input (injected)'), { code: '27' });
    // The first insert (the whole batch) and the next one (the first request alone) are refused.
    const conn = faulty({ failInserts: 2, error: refused });
    const w = writer(t, { client: client(conn) });
    const a = makeDetections(3);
    const b = makeDetections(4);
    const dead = await metricValue(metrics.storeDeadLetter);
    await Promise.all([w.write(a), w.write(b)]);
    await w.stored();
    const counts = await fingerprintCounts(t.table);
    // Whether a and b share a batch or not, both refusals hit a: the batch with a, then a alone.
    assert.equal(a.filter((d) => counts.has(d.fingerprint)).length, 0, 'the refused request is not stored');
    assert.equal(b.filter((d) => counts.has(d.fingerprint)).length, 4, 'the good request is stored');
    assert.equal((await metricValue(metrics.storeDeadLetter)) - dead, 3);
    const deadDir = path.join(t.logDir, 'dead-letter');
    const files = fs.readdirSync(deadDir);
    assert.ok(files.some((f) => f.endsWith('.reasons.txt')), files.join(', '));
    const deadRows = files.filter((f) => f.endsWith('.ndjson')).flatMap((f) => fs.readFileSync(path.join(deadDir, f), 'utf8').split('\n').filter(Boolean));
    assert.deepEqual(deadRows.map((l) => (JSON.parse(l) as { fingerprint?: string }).fingerprint).filter(Boolean).sort(), a.map((d) => d.fingerprint).sort());
    assert.equal(w.backlog, 0, 'a refused batch does not block the log');
  });
});
