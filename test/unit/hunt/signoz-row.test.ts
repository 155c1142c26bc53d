import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyFromText, rowToRecord, type SignozRow } from '../../../src/hunt/signoz-row.ts';
import { pageSql, rangeCondition } from '../../../src/hunt/reader.ts';
import { paramMismatch, readCheckpoint, writeCheckpoint, type HuntParams } from '../../../src/hunt/checkpoint.ts';
import { timeArg } from '../../../src/cli/hunt.ts';

const row = (over: Partial<SignozRow> = {}): SignozRow => ({
  ts_bucket_start: '1784296800', resource_fingerprint: 'host.name=h1', timestamp: '1784297914072213500', observed_timestamp: '1784297915072213500', id: '2abc', trace_id: 'ab', span_id: 'cd',
  trace_flags: 1, severity_text: 'INFO', severity_number: 9, body: '{"channel":"Security","event_id":{"id":4688}}',
  attributes_string: { 'log.file.name': 'x.log' }, attributes_number: { pid: 42, ratio: 0.5 }, attributes_bool: { ok: true },
  resources_string: { 'host.name': 'h1' }, scope_name: 's', scope_version: '1', ...over,
});

describe('SigNoz row → LogRecordView', () => {
  test('a JSON-object body becomes the map it was; attributes come from the three typed maps', () => {
    const r = rowToRecord(row());
    assert.deepEqual(r.body, { channel: 'Security', event_id: { id: 4688 } });
    assert.deepEqual(r.attributes, { 'log.file.name': 'x.log', pid: 42, ratio: 0.5, ok: true });
    assert.deepEqual(r.resource.attributes, { 'host.name': 'h1' });
    assert.equal(r.timeUnixNano, '1784297914072213500');
    assert.equal(r.observedTimeUnixNano, '1784297915072213500');
    assert.deepEqual([r.severityNumber, r.severityText, r.traceId, r.spanId, r.flags], [9, 'INFO', 'ab', 'cd', 1]);
    assert.deepEqual(r.scope, { name: 's', version: '1' });
  });

  test('other bodies stay strings: text, XML, JSON arrays and scalars, broken JSON; empty is no body', () => {
    for (const s of ['plain line', '<Event xmlns="x"/>', '[1,2]', '{"a":', '42', '"quoted"']) assert.equal(bodyFromText(s), s);
    assert.equal(rowToRecord(row({ body: '' })).body, null);
  });
});

describe('page query', () => {
  test('keyset pagination after the last row in the table\'s sorting key order, as key-prefix conditions, never OFFSET', () => {
    const sql = pageSql({ table: 'signoz_logs.logs_v2', fromNs: 3_600_000_000_000n, toNs: 7_200_000_000_000n, limit: 10 }, { bucket: '3600', fp: 'h=1', sev: 'INFO', ts: '3600000000001', id: "a'b" });
    assert.ok(sql.includes("ts_bucket_start >= 3600 AND (ts_bucket_start > 3600 OR (ts_bucket_start = 3600 AND (resource_fingerprint > 'h=1' " +
      "OR (resource_fingerprint = 'h=1' AND (severity_text > 'INFO' OR (severity_text = 'INFO' AND (timestamp, id) > (3600000000001, 'a\\'b')))))))"), sql);
    assert.match(sql, /ORDER BY ts_bucket_start, resource_fingerprint, severity_text, timestamp, id LIMIT 10\)$/);
    // ns timestamps as text by name: the JSON-wide quoting setting would also quote the integers inside body_v2
    assert.match(sql, /^SELECT \* REPLACE \(toString\(ts_bucket_start\) AS ts_bucket_start, toString\(timestamp\) AS timestamp, toString\(observed_timestamp\) AS observed_timestamp\) FROM \(SELECT /);
    assert.doesNotMatch(sql, /OFFSET/i);
  });

  test('range: bucket bounds with one bucket of slack, clamped at 0; timestamp half-open', () => {
    assert.equal(rangeCondition({ table: 't', fromNs: 0n, toNs: 10n }), 'ts_bucket_start >= 0 AND timestamp >= 0 AND ts_bucket_start <= 1800 AND timestamp < 10');
    assert.match(rangeCondition({ table: 't', fromNs: 3_600_000_000_000n, where: 'x = 1' }), /^ts_bucket_start >= 1800 AND timestamp >= 3600000000000 AND \(x = 1\)$/);
  });
});

describe('checkpoint', () => {
  const p: HuntParams = { table: 't', fromNs: '1', toNs: '2', where: '', pageSize: 10, rules: 'abc' };
  const last = { bucket: '0', fp: 'f', sev: 'INFO', ts: '5', id: 'x' };
  test('round-trips and names the parameter that differs', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'c.json');
    assert.equal(readCheckpoint(f), undefined);
    writeCheckpoint(f, { version: 2, params: p, last, rows: 3, detections: 1, done: false });
    assert.deepEqual(readCheckpoint(f)?.last, last);
    assert.equal(paramMismatch(p, p), undefined);
    assert.match(paramMismatch(p, { ...p, rules: 'def' }) ?? '', /^rules/);
  });

  test('a checkpoint of the older (bucket, timestamp, id) page order is refused, naming what to do', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'c.json');
    writeFileSync(f, JSON.stringify({ version: 1, params: p, last: { bucket: '0', ts: '5', id: 'x' }, rows: 3, detections: 1, done: false }));
    assert.throws(() => readCheckpoint(f), /older otel-sigma.*remove it/);
  });
});

describe('time arguments', () => {
  test('durations back from now and ISO date-times', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    assert.equal(timeArg('since', '24h', now), BigInt(Date.parse('2026-01-01T00:00:00Z')) * 1_000_000n);
    assert.equal(timeArg('from', '2026-01-01T12:00:00Z', now), BigInt(Date.parse('2026-01-01T12:00:00Z')) * 1_000_000n);
    assert.throws(() => timeArg('from', 'yesterday', now), /--from/);
  });
});
