import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addEventTimeFlagSql, assertIdentifier, createDetectionsTableSql, ttlExpression } from '../../../src/store/schema.ts';
import { DETECTION_COLUMNS } from '../../../src/store/detection-row.ts';

void describe('assertIdentifier', () => {
  void test('accepts ClickHouse-safe identifiers', () => {
    for (const ok of ['otel_sigma', 'detections', '_x', 'A1_b2']) assert.equal(assertIdentifier('k', ok), ok);
  });
  void test('rejects anything else, naming the key and the value', () => {
    for (const bad of ['', '1abc', 'a-b', 'a.b', 'a b', 'x`; DROP TABLE y', 'ünï']) {
      assert.throws(() => assertIdentifier('clickhouse.table', bad), (e: Error) => e.message.includes('"clickhouse.table"') && e.message.includes(JSON.stringify(bad)));
    }
  });
});

void describe('detections DDL', () => {
  void test('declares exactly the row columns, in order (v2 table, then the column v3 adds)', () => {
    const sql = createDetectionsTableSql('db', 'tbl');
    const declared = [...sql.matchAll(/^ {4}([a-z_]+) +[A-Z]/gm)].map((m) => m[1]);
    const added = /ADD COLUMN IF NOT EXISTS ([a-z_]+) UInt8 DEFAULT 0 AFTER truncated$/.exec(addEventTimeFlagSql('db', 'tbl'))![1];
    assert.deepEqual([...declared, added], [...DETECTION_COLUMNS]);
    assert.match(sql, /CREATE TABLE IF NOT EXISTS `db`\.`tbl`/);
  });
  void test('the TTL expression is the form ClickHouse prints back (compared on restart)', () => {
    assert.equal(ttlExpression(30), 'toDateTime(detected_at) + toIntervalDay(30)');
  });
});
