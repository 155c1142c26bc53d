import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { currentTtl, migrate, MIGRATIONS } from '../../../src/store/migrations.ts';
import { DETECTION_COLUMNS, EVENT_COLUMNS, formatEpochMs, formatEpochNs } from '../../../src/store/detection-row.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { copyLegacyRows, legacyDetectionsTableSql } from '../../../src/store/migrate-v2.ts';
import { createDatabaseSql, createMigrationsTableSql } from '../../../src/store/schema.ts';
import type { Logger } from '../../../src/telemetry/logger.ts';
import { makeDetection } from './make-detection.ts';

const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-migrations-'));
let ch: ClickHouseHandle;

before(() => {
  ch = openClickHouse({ dataDir: join(dir, 'chdb') });
});
after(async () => {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

async function assertVerticalMerges(database: string, name: string): Promise<void> {
  const [t] = await rows<{ engine_full: string }>('SELECT engine_full FROM system.tables WHERE database = {database:String} AND name = {name:String}', { database, name });
  assert.match(t?.engine_full ?? '', /vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_columns_to_activate = 1/, `${database}.${name} merges vertically`);
}

void describe('migrate', () => {
  void test('creates the database, both tables with every documented column, and records every version', async () => {
    const res = await migrate(ch.client, { database: 'otel_sigma', table: 'detections', ttlDays: 0 });
    assert.deepEqual(res, { applied: MIGRATIONS.map((m) => m.version), ttl: 'unchanged' });

    const cols = await rows<{ name: string; type: string }>(
      "SELECT name, type FROM system.columns WHERE database = 'otel_sigma' AND table = 'detections' ORDER BY position",
    );
    assert.deepEqual(cols.map((c) => c.name), [...DETECTION_COLUMNS]);
    const types = Object.fromEntries(cols.map((c) => [c.name, c.type]));
    assert.equal(types['event_time'], "DateTime64(9, 'UTC')");
    assert.equal(types['detected_at'], "DateTime64(3, 'UTC')");
    assert.equal(types['rule_tags'], 'Array(LowCardinality(String))');
    assert.equal(types['matched'], 'Map(String, String)');
    assert.equal(types['correlation_group'], 'Map(String, String)');
    assert.equal(types['source'], 'LowCardinality(String)');
    const evCols = await rows<{ name: string }>("SELECT name FROM system.columns WHERE database = 'otel_sigma' AND table = 'detections_events' ORDER BY position");
    assert.deepEqual(evCols.map((c) => c.name), [...EVENT_COLUMNS]);

    const [t] = await rows<{ engine_full: string; partition_key: string; sorting_key: string }>(
      "SELECT engine_full, partition_key, sorting_key FROM system.tables WHERE database = 'otel_sigma' AND name = 'detections'",
    );
    assert.equal(t?.partition_key, 'toDate(detected_at)', 'partitioned on the server clock');
    assert.equal(t?.sorting_key, 'toStartOfHour(detected_at), rule_level, rule_id, host, detected_at');
    assert.match(t?.engine_full ?? '', /non_replicated_deduplication_window = 1000/);
    assert.doesNotMatch(t?.engine_full ?? '', /\bTTL\b/);
    for (const name of ['detections', 'detections_events']) await assertVerticalMerges('otel_sigma', name);

    const recorded = await rows<{ version: number; name: string }>("SELECT version, name FROM otel_sigma.schema_migrations WHERE table_name = 'detections'");
    assert.deepEqual(recorded.sort((a, b) => a.version - b.version), [{ version: 1, name: 'create_detections' }, { version: 2, name: 'detected_at_layout' }, { version: 3, name: 'event_time_implausible' }, { version: 4, name: 'vertical_merges' }]);
    const legacy = await rows("SELECT name FROM system.tables WHERE database = 'otel_sigma' AND name = 'detections_v1'");
    assert.deepEqual(legacy, [], 'a new install keeps no empty v1 table');
  });

  void test('running again is a no-op: nothing applied, nothing recorded twice', async () => {
    const res = await migrate(ch.client, { database: 'otel_sigma', table: 'detections', ttlDays: 0 });
    assert.deepEqual(res, { applied: [], ttl: 'unchanged' });
    const [n] = await rows<{ n: string }>("SELECT count() AS n FROM otel_sigma.schema_migrations WHERE table_name = 'detections'");
    assert.equal(Number(n?.n), MIGRATIONS.length);
  });

  void test('tables made before migration 4 get vertical merges, and their rows stay', async () => {
    const db = 'v3_db';
    await migrate(ch.client, { database: db, table: 'detections', ttlDays: 0 });
    // What a v3 install has: the tables without the merge settings, versions 1-3 recorded.
    for (const name of ['detections', 'detections_events']) {
      await ch.client.command({ query: `ALTER TABLE ${db}.${name} RESET SETTING vertical_merge_algorithm_min_rows_to_activate, vertical_merge_algorithm_min_columns_to_activate` });
      const [t] = await rows<{ engine_full: string }>('SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {name:String}', { db, name });
      assert.doesNotMatch(t?.engine_full ?? '', /vertical_merge/, 'the setting is reset, as a v3 table has it');
    }
    // mutations_sync: the DELETE is done when the call returns, not in the background.
    await ch.client.command({ query: `ALTER TABLE ${db}.schema_migrations DELETE WHERE version = 4`, clickhouse_settings: { mutations_sync: '2' } });
    const w = new DetectionWriter({ client: ch.client, database: db, table: 'detections', logDir: join(dir, 'v3-log') });
    await w.write([makeDetection()]);
    await w.close();

    const res = await migrate(ch.client, { database: db, table: 'detections', ttlDays: 0 });
    assert.deepEqual(res.applied, [4]);
    for (const name of ['detections', 'detections_events']) await assertVerticalMerges(db, name);
    const [n] = await rows<{ n: string }>(`SELECT (SELECT count() FROM ${db}.detections) + (SELECT count() FROM ${db}.detections_events) AS n`);
    assert.equal(Number(n?.n), 2, 'the detection and its event are still there');
  });

  void test('a changed TTL is applied on restart, an unchanged one is left alone, 0 removes it', async () => {
    const opts = { database: 'otel_sigma', table: 'detections' };
    assert.equal((await migrate(ch.client, { ...opts, ttlDays: 7 })).ttl, 'set');
    assert.equal(await currentTtl(ch.client, 'otel_sigma', 'detections'), 'toDateTime(detected_at) + toIntervalDay(7)');
    assert.equal((await migrate(ch.client, { ...opts, ttlDays: 7 })).ttl, 'unchanged');
    assert.equal((await migrate(ch.client, { ...opts, ttlDays: 30 })).ttl, 'set');
    assert.equal(await currentTtl(ch.client, 'otel_sigma', 'detections'), 'toDateTime(detected_at) + toIntervalDay(30)');
    assert.equal((await migrate(ch.client, { ...opts, ttlDays: 0 })).ttl, 'removed');
    assert.equal(await currentTtl(ch.client, 'otel_sigma', 'detections'), '');
  });

  void test('TTL counts from detected_at: old detections are dropped, detections of old events are kept', async () => {
    await migrate(ch.client, { database: 'ttl_db', table: 'short', ttlDays: 1 });
    const old = '2020-01-01 00:00:00.000000000';
    const fresh = new Date().toISOString().slice(0, 19).replace('T', ' ');
    await ch.client.insert({ table: 'ttl_db.short', values: [
      { event_time: fresh, detected_at: old, fingerprint: 'old' },
      { event_time: old, detected_at: fresh, fingerprint: 'new' },
    ], format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'ttl-test' } });
    await ch.client.command({ query: 'OPTIMIZE TABLE ttl_db.short FINAL' });
    const left = await rows<{ fingerprint: string }>('SELECT fingerprint FROM ttl_db.short');
    assert.deepEqual(left, [{ fingerprint: 'new' }]);
  });

  void test('database and table names are configurable and tracked separately', async () => {
    const a = await migrate(ch.client, { database: 'custom_db', table: 'dets_a', ttlDays: 3 });
    const b = await migrate(ch.client, { database: 'custom_db', table: 'dets_b', ttlDays: 0 });
    assert.deepEqual(a, { applied: [1, 2, 3, 4], ttl: 'set' });
    assert.deepEqual(b, { applied: [1, 2, 3, 4], ttl: 'unchanged' });
    const tables = await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'custom_db' ORDER BY name");
    assert.deepEqual(tables.map((t) => t.name), ['dets_a', 'dets_a_events', 'dets_b', 'dets_b_events', 'schema_migrations']);
    assert.equal(await currentTtl(ch.client, 'custom_db', 'dets_a_events'), 'toDateTime(detected_at) + toIntervalDay(3)', 'events expire with their detections');
  });

  void test('rejects names that are not identifiers and bad TTLs before touching ClickHouse', async () => {
    await assert.rejects(migrate(ch.client, { database: 'x; DROP TABLE y', table: 'detections', ttlDays: 0 }), /storage\.database/);
    await assert.rejects(migrate(ch.client, { database: 'ok', table: '1bad', ttlDays: 0 }), /storage\.table/);
    await assert.rejects(migrate(ch.client, { database: 'ok', table: 'ok', ttlDays: -1 }), /ttl_days/);
    await assert.rejects(migrate(ch.client, { database: 'ok', table: 'ok', ttlDays: 1.5 }), /ttl_days/);
    const dbs = await rows<{ name: string }>("SELECT name FROM system.databases WHERE name = 'ok'");
    assert.deepEqual(dbs, []);
  });
});

void describe('migration from the v1 layout (partitioned by event day)', () => {
  const DB = 'upgrade_db';
  const DAY = 86_400_000;

  async function oldInstall(): Promise<void> {
    await ch.client.command({ query: createDatabaseSql(DB) });
    await ch.client.command({ query: createMigrationsTableSql(DB) });
    await ch.client.command({ query: legacyDetectionsTableSql(DB, 'detections') });
    await ch.client.insert({ table: `${DB}.schema_migrations`, values: [{ table_name: 'detections', version: 1, name: 'create_detections', applied_at: '2026-01-01 00:00:00.000' }], format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'old-install' } });
    // 30 v1 rows over 10 event days (a hunt over old logs), detected over the last hours.
    const now = Date.now();
    await ch.client.insert({
      table: `${DB}.detections`,
      values: Array.from({ length: 30 }, (_, i) => ({
        event_time: formatEpochNs(`${BigInt(now - (i % 10) * 40 * DAY) * 1_000_000n}`),
        detected_at: formatEpochMs(now - i * 60_000),
        rule_id: `rule-${i % 4}`, rule_level: 'high', host: `h${i % 3}`, matched: { Image: `x${i}.exe` },
        sigma_event: `{"Image":"x${i}.exe"}`, body: `old body ${i}`, fingerprint: `v1-${i}`, source: 'stream',
      })),
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'old-rows' },
    });
  }

  void test('keeps every row, resumes after an interruption, and takes new detections while it runs', async () => {
    await oldInstall();
    const res = await migrate(ch.client, { database: DB, table: 'detections', ttlDays: 0 });
    assert.deepEqual(res.applied, [2, 3, 4]);
    const legacy = await rows<{ n: string }>(`SELECT count() AS n FROM ${DB}.detections_v1`);
    assert.equal(Number(legacy[0]?.n), 30, 'the old rows wait in detections_v1');

    // serve accepts meanwhile: new detections go to the new layout at once
    const w = new DetectionWriter({ client: ch.client, database: DB, table: 'detections', logDir: join(dir, 'upgrade-log') });
    const fresh = makeDetection();
    await w.write([fresh]);
    await w.stored();

    // interrupted after the first partition (a stop, a crash)
    const stop = new AbortController();
    const first = await copyLegacyRows(ch.client, DB, 'detections', { signal: stop.signal, logger: { info: () => stop.abort() } as unknown as Logger });
    assert.equal(first.partitions, 1);
    assert.equal(first.dropped, false);
    // and run again, twice (the second is a no-op)
    const second = await copyLegacyRows(ch.client, DB, 'detections');
    assert.equal(second.partitions, 9);
    assert.equal(second.dropped, true);
    assert.deepEqual(await copyLegacyRows(ch.client, DB, 'detections'), { partitions: 0, rows: 0, dropped: false });

    const dets = await rows<{ fingerprint: string; event_id: string; event_time_implausible: number }>(`SELECT fingerprint, event_id, event_time_implausible FROM ${DB}.detections ORDER BY fingerprint`);
    assert.equal(dets.length, 31);
    assert.ok(dets.every((d) => d.event_time_implausible === 0), 'copied into the v3 table (the copy names its columns)');
    assert.equal(new Set(dets.map((d) => d.fingerprint)).size, 31, 'no row copied twice');
    const joined = await rows<{ body: string }>(`SELECT e.body AS body FROM ${DB}.detections AS d INNER JOIN ${DB}.detections_events AS e ON d.event_id = e.event_id WHERE startsWith(d.fingerprint, 'v1-')`);
    assert.deepEqual(joined.map((r) => r.body).sort(), Array.from({ length: 30 }, (_, i) => `old body ${i}`).sort(), 'every old event is reachable from its detection');
    const tables = await rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${DB}' ORDER BY name`);
    assert.deepEqual(tables.map((t) => t.name), ['detections', 'detections_events', 'schema_migrations']);
    assert.ok(dets.some((d) => d.fingerprint === fresh.fingerprint));
    await w.close();
  });
});
