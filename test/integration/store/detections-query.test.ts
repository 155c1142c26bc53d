import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { DETECTION_COLUMNS, formatEpochNs } from '../../../src/store/detection-row.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { parseDetectionsFilter, queryDetections } from '../../../src/store/detections-query.ts';
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
  void test('returns plain rows with the column names, newest event first (ordered by event_time)', async () => {
    const rows = await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time' });
    assert.deepEqual(bodies(rows), ['a-recent', 'a-2h', 'b-3h', 'b-50h']);
    assert.deepEqual(Object.keys(rows[0]!).sort(), [...DETECTION_COLUMNS].sort());
    assert.equal(rows[0]!.event_time, formatEpochNs(events[0]!.eventTimeNs));
    assert.deepEqual(rows[0]!.matched, events[0]!.matched);
    assert.deepEqual(rows[0]!.rule_tags, events[0]!.ruleTags);
    assert.equal(rows[0]!.event_id, events[0]!.event.id);
  });

  void test('filters by time window on event_time (timeColumn)', async () => {
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', sinceSeconds: 3600 })), ['a-recent']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', sinceSeconds: 86_400 })), ['a-recent', 'a-2h', 'b-3h']);
  });

  void test('filters by rule, combines with the window, and honours the limit', async () => {
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', ruleId: RULE_B })), ['b-3h', 'b-50h']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', ruleId: RULE_B, sinceSeconds: 86_400 })), ['b-3h']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', limit: 2 })), ['a-recent', 'a-2h']);
    assert.deepEqual(await queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', ruleId: "x' OR 1=1 --" }), []);
  });

  void test('rejects bad names and limits; a missing table is a non-retryable ERR_STORE', async () => {
    await assert.rejects(queryDetections(ch.client, { database: DB, table: 'detections; DROP TABLE x' }), /"table"/);
    await assert.rejects(queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', limit: -1 }), /"limit"/);
    await assert.rejects(queryDetections(ch.client, { database: DB, table: TABLE, timeColumn: 'event_time', sinceSeconds: -1 }), /"since"/);
    await assert.rejects(queryDetections(ch.client, { database: DB, table: 'missing' }), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && !e.retryable);
  });
});

void describe('queryDetections: detection time by default, and every filter', () => {
  const T2 = 'detections_filters';
  const now = Date.now();
  const OLD_EVENT_NS = '978307200000000000'; // 2001-01-01, detected a minute ago
  const rows = [
    makeDetection({ ruleId: RULE_A, ruleLevel: 'low', host: 'h1', ruleTags: ['attack.credential-access', 'attack.t1110.001'], source: 'stream', eventTimeNs: OLD_EVENT_NS, detectedAtMs: now - 60_000, matched: { tag: 'old-event' } }),
    makeDetection({ ruleId: RULE_B, ruleLevel: 'high', host: 'h2', ruleTags: ['attack.t1078'], source: 'hunt', eventTimeNs: nowNs(-10 * 60_000), detectedAtMs: now - 2 * HOUR, matched: { tag: 'hunted' } }),
    makeDetection({ ruleId: RULE_B, ruleLevel: 'critical', host: 'h1', ruleTags: ['attack.execution'], source: 'stream', eventTimeNs: nowNs(-72 * HOUR), detectedAtMs: now - 72 * HOUR, matched: { tag: 'three-days' } }),
  ];
  const q = { database: DB, table: T2 };

  before(async () => {
    await migrate(ch.client, { database: DB, table: T2, ttlDays: 30 });
    const w = new DetectionWriter({ client: ch.client, database: DB, table: T2, logDir: join(dir, 'log-filters') });
    await w.write(rows);
    await w.stored();
    await w.close();
  });

  void test('newest detection first; since filters on detected_at unless event_time is asked for', async () => {
    assert.deepEqual(bodies(await queryDetections(ch.client, q)), ['old-event', 'hunted', 'three-days']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, sinceSeconds: 3600 })), ['old-event'], 'an old event detected a minute ago is recent');
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, sinceSeconds: 3600, timeColumn: 'event_time' })), ['hunted']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, timeColumn: 'event_time' })), ['hunted', 'three-days', 'old-event']);
  });

  void test('a window far larger than DateTime64 spans (100 years, 10^12 s) is everything', async () => {
    const century = parseDetectionsFilter({ since: '100y' }).sinceSeconds!;
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, sinceSeconds: century, timeColumn: 'event_time' })), ['hunted', 'three-days', 'old-event']);
    assert.equal((await queryDetections(ch.client, { ...q, sinceSeconds: 1e12, timeColumn: 'event_time' })).length, 3);
  });

  void test('minimum level, host, source and ATT&CK tag (a technique matches its sub-techniques)', async () => {
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, minLevel: 'high' })), ['hunted', 'three-days']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, minLevel: 'informational' })).length, 3);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, host: 'h1' })), ['old-event', 'three-days']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, source: 'hunt' })), ['hunted']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, tag: 'attack.t1110' })), ['old-event']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, tag: 'attack.t1110.001' })), ['old-event']);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, tag: 'attack.t111' })), []);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, tag: 'attack.t1078', host: 'h1' })), []);
    assert.deepEqual(await queryDetections(ch.client, { ...q, host: "h1' OR 1=1 --", tag: "x') OR 1=1 --" }), []);
  });

  void test('limit 0 is all', async () => {
    assert.equal((await queryDetections(ch.client, { ...q, limit: 0 })).length, 3);
    assert.deepEqual(bodies(await queryDetections(ch.client, { ...q, limit: 1 })), ['old-event']);
  });
});
