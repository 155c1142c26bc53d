import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { DETECTION_COLUMNS, formatEpochNs } from '../../../src/store/detection-row.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { queryDetections } from '../../../src/store/detections-query.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { makeDetection, nowNs } from './make-detection.ts';

const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-query-'));
const DB = 'otel_sigma';
const TABLE = 'detections';
const RULE_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const RULE_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const HOUR = 3_600_000;
let ch: ClickHouseHandle;

// Events at now-10min (A), now-2h (A), now-3h (B), now-50h (B): "since 1h" sees 1, "since 1d" sees 3.
const events = [
  makeDetection({ ruleId: RULE_A, eventTimeNs: nowNs(-10 * 60_000), matched: { tag: 'a-recent' } }),
  makeDetection({ ruleId: RULE_A, eventTimeNs: nowNs(-2 * HOUR), matched: { tag: 'a-2h' } }),
  makeDetection({ ruleId: RULE_B, eventTimeNs: nowNs(-3 * HOUR), matched: { tag: 'b-3h' } }),
  makeDetection({ ruleId: RULE_B, eventTimeNs: nowNs(-50 * HOUR), matched: { tag: 'b-50h' } }),
];

before(async () => {
  ch = openClickHouse({ dataDir: join(dir, 'chdb') });
  await migrate(ch.client, { database: DB, table: TABLE, ttlDays: 30 });
  const w = new DetectionWriter({ client: ch.client, database: DB, table: TABLE, logDir: join(dir, 'log') });
  await w.write(events);
  await w.stored();
  await w.close();
});
after(async () => {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

const bodies = (rows: { matched: Record<string, string> }[]): string[] => rows.map((r) => r.matched['tag'] ?? '');

void describe('queryDetections', () => {
  void test('returns plain rows with the column names, newest event first', async () => {
    const rows = await queryDetections(ch.client, { database: DB, table: TABLE });
    assert.deepEqual(bodies(rows), ['a-recent', 'a-2h', 'b-3h', 'b-50h']);
    assert.deepEqual(Object.keys(rows[0]!).sort(), [...DETECTION_COLUMNS].sort());
    assert.equal(rows[0]!.event_time, formatEpochNs(events[0]!.eventTimeNs));
    assert.deepEqual(rows[0]!.matched, events[0]!.matched);
    assert.deepEqual(rows[0]!.rule_tags, events[0]!.ruleTags);
    assert.equal(rows[0]!.event_id, events[0]!.event.id);
  });

  void test('filters by time window on event_time', async () => {
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, sinceSeconds: 3600 })), ['a-recent']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, sinceSeconds: 86_400 })), ['a-recent', 'a-2h', 'b-3h']);
  });

  void test('filters by rule, combines with the window, and honours the limit', async () => {
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, ruleId: RULE_B })), ['b-3h', 'b-50h']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, ruleId: RULE_B, sinceSeconds: 86_400 })), ['b-3h']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, limit: 2 })), ['a-recent', 'a-2h']);
    assert.deepEqual(await queryDetections(ch.client, { database: DB, table: TABLE, ruleId: "x' OR 1=1 --" }), []);
  });

  void test('rejects bad names and limits; a missing table is a non-retryable ERR_STORE', async () => {
    await assert.rejects(queryDetections(ch.client, { database: DB, table: 'detections; DROP TABLE x' }), /"table"/);
    await assert.rejects(queryDetections(ch.client, { database: DB, table: TABLE, limit: 0 }), /"limit"/);
    await assert.rejects(queryDetections(ch.client, { database: DB, table: TABLE, sinceSeconds: -1 }), /"since"/);
    await assert.rejects(queryDetections(ch.client, { database: DB, table: 'missing' }), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && !e.retryable);
  });
});
