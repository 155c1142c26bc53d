import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { currentTtl, migrate, MIGRATIONS } from '../../../src/store/migrations.ts';
import { DETECTION_COLUMNS } from '../../../src/store/detection-row.ts';

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

void describe('migrate', () => {
  void test('creates the database, the table with every documented column, and records version 1', async () => {
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
    assert.equal(types['severity_number'], 'UInt8');
    assert.equal(types['source'], 'LowCardinality(String)');

    const [t] = await rows<{ engine_full: string; partition_key: string; sorting_key: string }>(
      "SELECT engine_full, partition_key, sorting_key FROM system.tables WHERE database = 'otel_sigma' AND name = 'detections'",
    );
    assert.equal(t?.partition_key, 'toDate(event_time)');
    assert.equal(t?.sorting_key, 'rule_level, rule_id, host, event_time');
    assert.match(t?.engine_full ?? '', /non_replicated_deduplication_window = 1000/);
    assert.doesNotMatch(t?.engine_full ?? '', /\bTTL\b/);

    const recorded = await rows<{ version: number; name: string }>("SELECT version, name FROM otel_sigma.schema_migrations WHERE table_name = 'detections'");
    assert.deepEqual(recorded, [{ version: 1, name: 'create_detections' }]);
  });

  void test('running again is a no-op: nothing applied, nothing recorded twice', async () => {
    const res = await migrate(ch.client, { database: 'otel_sigma', table: 'detections', ttlDays: 0 });
    assert.deepEqual(res, { applied: [], ttl: 'unchanged' });
    const [n] = await rows<{ n: string }>("SELECT count() AS n FROM otel_sigma.schema_migrations WHERE table_name = 'detections'");
    assert.equal(Number(n?.n), 1);
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
    ], format: 'JSONEachRow' });
    await ch.client.command({ query: 'OPTIMIZE TABLE ttl_db.short FINAL' });
    const left = await rows<{ fingerprint: string }>('SELECT fingerprint FROM ttl_db.short');
    assert.deepEqual(left, [{ fingerprint: 'new' }]);
  });

  void test('database and table names are configurable and tracked separately', async () => {
    const a = await migrate(ch.client, { database: 'custom_db', table: 'dets_a', ttlDays: 3 });
    const b = await migrate(ch.client, { database: 'custom_db', table: 'dets_b', ttlDays: 0 });
    assert.deepEqual(a, { applied: [1], ttl: 'set' });
    assert.deepEqual(b, { applied: [1], ttl: 'unchanged' });
    const tables = await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'custom_db' ORDER BY name");
    assert.deepEqual(tables.map((t) => t.name), ['dets_a', 'dets_b', 'schema_migrations']);
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
