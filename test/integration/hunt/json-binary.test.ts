/**
 * The binary reading of SigNoz's JSON-typed body columns gives exactly what JSON.parse(toString(col))
 * gives (the text reading it replaces), on a real engine: every map body of the regression corpus, values
 * of every type ClickHouse infers (dates and times in UTC and in another session time zone), typed paths
 * an admin may declare, and body_promoted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { decodeJsonColumns, UnreadableBody } from '../../../src/hunt/json-binary.ts';
import { bodyBinaryColumn, bodyFromJsonColumns } from '../../../src/hunt/signoz-row.ts';
import { corpusRows, openStore } from './setup.ts';

const EDGES = [
  { d: '2024-01-01', t: '2024-01-01 10:00:00', z: '2024-01-01T10:00:00.123Z', old: '1969-12-31 23:59:59.5', n: 1.2345678901234567e19, neg: -5, f: 1.25, big: 1e300, b: false },
  { arr: [1, 2], mix: [1, 'q', true, null], objs: [{ z: 1 }, { y: 'x', w: { v: [1.5] } }], deep: [[1, 2], [3]], strs: ['a', null], empty: [], nested: { a: { b: { c: 'd' } } } },
  { k: [[1, 'a'], [2]], l: [{ x: 1 }, 2], withOffset: '2024-01-01 10:00:00+01:00', iso: '2024-01-01T10:00:00+02:00', tiny: 1.5e-320, min: -(2 ** 62) },
  { 'dotted.key': 'x', 'dotted': { other: 1 }, 'unicode': 'żółw 🐢 \u2028', 'quote': 'a"b\\c', 'nul': null },
  { message: 'typed path present', n: 0, e: -0.5, u: 2 ** 60 },
  {},
];

async function rowsOf(client: ClickHouseClient, table: string, tz?: string): Promise<{ text: string; promoted: string; body_bin: string }[]> {
  const rs = await client.query({
    query: `SELECT toString(body_v2) AS text, toString(body_promoted) AS promoted, ${bodyBinaryColumn(true)} FROM ${table} ORDER BY k`,
    format: 'JSONEachRow',
    ...(tz !== undefined ? { clickhouse_settings: { session_timezone: tz } } : {}),
  });
  return rs.json();
}

describe('JSON body columns read in binary', () => {
  const store = openStore('otel-sigma-json-binary-');
  const client = store.ch.client;
  before(async () => {
    await client.command({ query: 'CREATE TABLE signoz (k UInt32, body String, body_v2 JSON(max_dynamic_paths = 0, message String), body_promoted JSON) ENGINE = MergeTree ORDER BY k' });
    await client.command({
      query: 'CREATE TABLE typed (k UInt32, body String, body_v2 JSON(max_dynamic_paths = 0, message String, `a.n` UInt32, lc LowCardinality(String), ip IPv4, u UUID, ' +
        "dt DateTime('Asia/Tokyo'), dt64 DateTime64(3), f32 Float32, m Map(String, Int64), ns Nullable(String), arr Array(UInt8), SKIP skipped), body_promoted JSON) ENGINE = MergeTree ORDER BY k",
    });
  });
  after(() => store.cleanup());

  test('every map body of the regression corpus, body_promoted merged, as the text reading gives', async () => {
    const bodies = corpusRows().map((r) => r.record.body).filter((b) => typeof b === 'object' && b !== null && !Array.isArray(b));
    assert.ok(bodies.length > 300, `${bodies.length} map bodies`);
    // Some bodies carry a promoted path, as an admin's promotion moves them.
    const values = bodies.map((b, k) => ({ k, body: '', body_v2: b, body_promoted: k % 5 === 0 ? { promoted: { at: k, name: `p${k}` } } : {} }));
    await client.insert({ table: 'signoz', values, format: 'JSONEachRow' });
    const rows = await rowsOf(client, 'signoz');
    assert.equal(rows.length, bodies.length);
    for (const [k, r] of rows.entries()) {
      const d = decodeJsonColumns(r.body_bin);
      assert.deepEqual(d.body, JSON.parse(r.text), `row ${k}`);
      assert.deepEqual(d.promoted, JSON.parse(r.promoted), `row ${k}`);
      if (k % 5 === 0) assert.deepEqual((bodyFromJsonColumns(r.body_bin) as Record<string, unknown>)['promoted'], { at: k, name: `p${k}` });
    }
    await client.command({ query: 'TRUNCATE TABLE signoz' });
  });

  for (const tz of [undefined, 'America/St_Johns']) {
    test(`every inferred type: dates, times, 64-bit integers, floats, arrays of objects and of mixed types (session time zone ${tz ?? 'default'})`, async () => {
      await client.insert({ table: 'signoz', values: EDGES.map((b, k) => ({ k, body: '', body_v2: b, body_promoted: {} })), format: 'JSONEachRow', ...(tz !== undefined ? { clickhouse_settings: { session_timezone: tz } } : {}) });
      const rows = await rowsOf(client, 'signoz', tz);
      assert.equal(rows.length, EDGES.length);
      for (const [k, r] of rows.entries()) assert.deepEqual(decodeJsonColumns(r.body_bin).body, JSON.parse(r.text), `row ${k}: ${r.text}`);
      // The values ClickHouse inferred as dates and times print as it prints them.
      const first = decodeJsonColumns(rows[0]!.body_bin).body;
      assert.equal(first['d'], '2024-01-01');
      assert.equal(first['z'], tz === undefined ? '2024-01-01 10:00:00.123000000' : '2024-01-01 06:30:00.123000000');
      await client.command({ query: 'TRUNCATE TABLE signoz' });
    });
  }

  test('typed paths an admin declared, whatever their type', async () => {
    await client.insert({
      table: 'typed',
      values: [
        { k: 0, body: '', body_v2: { message: 'm', a: { n: 7, free: 'x' }, lc: 'low', ip: '10.1.2.3', u: '61f0c404-5cb3-11e7-907b-a6006ad3dba0', dt: '2024-05-01 12:00:00', dt64: '2024-05-01 12:00:00.250', f32: 0.1, m: { a: 1, b: -2 }, ns: null, arr: [1, 2], skipped: 'gone' }, body_promoted: {} },
        { k: 1, body: '', body_v2: { other: 1 }, body_promoted: { x: 'y' } },
      ],
      format: 'JSONEachRow',
    });
    const rows = await rowsOf(client, 'typed');
    for (const [k, r] of rows.entries()) assert.deepEqual(decodeJsonColumns(r.body_bin).body, JSON.parse(r.text), `row ${k}: ${r.text}`);
    assert.equal((decodeJsonColumns(rows[0]!.body_bin).body['a'] as Record<string, unknown>)['n'], 7);
    assert.equal(decodeJsonColumns(rows[0]!.body_bin).body['f32'], 0.1);
  });

  test('a type it does not decode, or a cut-off value, is an error for that row', () => {
    const zone = Buffer.from([3, ...Buffer.from('UTC')]);
    // Dynamic holding a Decimal64(18, 2)
    assert.throws(() => decodeJsonColumns(Buffer.concat([zone, Buffer.from([0x1a, 18, 2, 0, 0, 0, 0, 0, 0, 0, 0])]).toString('base64')), UnreadableBody);
    // a String of 5 bytes with 2 present
    assert.throws(() => decodeJsonColumns(Buffer.concat([zone, Buffer.from([0x15, 5, 0x61, 0x62])]).toString('base64')), UnreadableBody);
  });
});
