import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DETECTION_COLUMNS, EVENT_COLUMNS, formatEpochMs, formatEpochNs, toDetectionRow, toEventRow, ValueLimit } from '../../../src/store/detection-row.ts';
import { makeDetection } from '../../integration/store/make-detection.ts';

void describe('formatEpochNs', () => {
  void test('keeps all nine fractional digits, in UTC', () => {
    assert.equal(formatEpochNs('1795313919422456789'), '2026-11-22 02:18:39.422456789');
    assert.equal(formatEpochNs('1000000001'), '1970-01-01 00:00:01.000000001');
    assert.equal(formatEpochNs('5'), '1970-01-01 00:00:00.000000005');
    assert.equal(formatEpochNs('0'), '1970-01-01 00:00:00.000000000');
  });

  void test('garbage becomes the epoch and far-future times are clamped to what DateTime64(9) holds', () => {
    assert.equal(formatEpochNs(''), '1970-01-01 00:00:00.000000000');
    assert.equal(formatEpochNs('-5'), '1970-01-01 00:00:00.000000000');
    assert.equal(formatEpochNs('12abc'), '1970-01-01 00:00:00.000000000');
    assert.match(formatEpochNs('18446744073709551615'), /^2261-12-31 23:59:59\.\d{9}$/);
  });

  void test('agrees with Date for any time up to 2261 (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_200_000_000_000_000_000n }), (ns) => {
        const iso = new Date(Number(ns / 1_000_000n)).toISOString();
        const expected = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
        assert.equal(formatEpochNs(String(ns)), expected);
      }),
    );
  });
});

void describe('formatEpochMs', () => {
  void test('millisecond precision in UTC', () => {
    assert.equal(formatEpochMs(1795313919999), '2026-11-22 02:18:39.999');
    assert.equal(formatEpochMs(7), '1970-01-01 00:00:00.007');
    assert.equal(formatEpochMs(Number.NaN), '1970-01-01 00:00:00.000');
  });
});

void describe('toDetectionRow / toEventRow', () => {
  const limit = (): ValueLimit => new ValueLimit(1024 * 1024);

  void test('map every field to its column; the event goes to its own row, once', () => {
    const d = makeDetection({ eventTimeNs: '1795313919422456789', detectedAtMs: 1795313919999, event: { severityNumber: 17 } });
    const row = toDetectionRow(d, limit());
    assert.deepEqual(Object.keys(row), [...DETECTION_COLUMNS]);
    assert.equal(row.event_time, '2026-11-22 02:18:39.422456789');
    assert.equal(row.detected_at, '2026-11-22 02:18:39.999');
    assert.equal(row.rule_id, d.ruleId);
    assert.deepEqual(row.matched, d.matched);
    assert.equal(row.fingerprint, d.fingerprint);
    assert.equal(row.event_id, d.event.id);
    assert.equal(row.correlation_type, '');
    const ev = toEventRow(d.event, d.detectedAtMs, limit());
    assert.deepEqual(Object.keys(ev), [...EVENT_COLUMNS]);
    assert.deepEqual(ev.log_attributes, d.event.logAttributes);
    assert.equal(ev.severity_number, 17);
    assert.equal(ev.detected_at, row.detected_at);
  });

  void test('a correlation fills the correlation columns', () => {
    const d = makeDetection({ correlation: { type: 'event_count', group: { 'source.ip': '203.0.113.5' }, windowStartNs: '1000000000', windowEndNs: '61000000000', value: 12, contributing: ['f1', 'f2'] } });
    const row = toDetectionRow(d, limit());
    assert.equal(row.correlation_type, 'event_count');
    assert.deepEqual(row.correlation_group, { 'source.ip': '203.0.113.5' });
    assert.equal(row.window_start, '1970-01-01 00:00:01.000000000');
    assert.equal(row.window_end, '1970-01-01 00:01:01.000000000');
    assert.equal(row.correlation_value, 12);
    assert.deepEqual(row.contributing, ['f1', 'f2']);
  });

  void test('lone surrogates become U+FFFD everywhere, well-formed text is untouched', () => {
    const d = makeDetection({ host: '\udc00', matched: { 'k\ud800': 'v\udfff' }, ruleTags: ['t\ud800'], event: { body: 'a\ud800b', sigmaEvent: '{"x":"😀"}' } });
    const row = toDetectionRow(d, limit());
    assert.equal(row.host, '\ufffd');
    assert.deepEqual(row.matched, { 'k\ufffd': 'v\ufffd' });
    assert.deepEqual(row.rule_tags, ['t\ufffd']);
    const ev = toEventRow(d.event, 0, limit());
    assert.equal(ev.body, 'a\ufffdb');
    assert.equal(ev.sigma_event, '{"x":"😀"}');
    assert.equal(row.truncated, 0);
  });

  void test('values over the byte limit are cut on a character boundary and the row flagged', () => {
    const l = new ValueLimit(1024);
    const ev = toEventRow(makeDetection({ event: { body: '€'.repeat(1000), sigmaEvent: 'short' } }).event, 0, l);
    assert.ok(Buffer.byteLength(ev.body) <= 1024 && Buffer.byteLength(ev.body) > 1020);
    assert.ok(!ev.body.includes('\ufffd'));
    assert.equal(ev.sigma_event, 'short');
    assert.equal(ev.truncated, 1);
    assert.equal(l.cut, 1);
  });

  void test('without the body (storage.store_body false) the event row keeps its Sigma event, and an oversize body is no cut', () => {
    const l = new ValueLimit(1024);
    const ev = toEventRow(makeDetection({ event: { body: 'b'.repeat(5000), sigmaEvent: '{"CommandLine":"whoami"}' } }).event, 0, l, false);
    assert.equal(ev.body, '');
    assert.equal(ev.sigma_event, '{"CommandLine":"whoami"}');
    assert.equal(ev.truncated, 0);
    assert.equal(l.cut, 0);
    assert.equal(toEventRow(makeDetection({ event: { body: 'kept' } }).event, 0, l).body, 'kept', 'stored by default');
  });

  void test('severity_number is clamped into UInt8', () => {
    const sev = (n: number): number => toEventRow(makeDetection({ event: { severityNumber: n } }).event, 0, limit()).severity_number;
    assert.equal(sev(-3), 0);
    assert.equal(sev(300), 255);
    assert.equal(sev(Number.NaN), 0);
  });
});

void describe('implausible event times (issue 17 item 4): kept as sent, flagged', () => {
  const now = Date.UTC(2026, 11, 6, 12);
  const ns = (ms: number): string => `${BigInt(ms) * 1_000_000n + 123n}`;
  const flag = (eventTimeNs: string): number => toDetectionRow(makeDetection({ eventTimeNs, detectedAtMs: now }), new ValueLimit(1024)).event_time_implausible;

  void test('before 1990 or more than a day ahead of detected_at is flagged; the stored time is unchanged', () => {
    for (const t of ['0', '5', ns(Date.UTC(1989, 11, 31, 23, 59, 59)), ns(now + 24 * 3600_000 + 1), '18446744073709551615', 'garbage']) assert.equal(flag(t), 1, t);
    const row = toDetectionRow(makeDetection({ eventTimeNs: ns(Date.UTC(1975, 0, 1)), detectedAtMs: now }), new ValueLimit(1024));
    assert.equal(row.event_time, '1975-01-01 00:00:00.000000123');
  });

  void test('1990 onwards up to a day ahead (clock skew, time zones) is plausible, including old records replayed', () => {
    for (const t of [ns(Date.UTC(1990, 0, 1)), ns(Date.UTC(2003, 5, 1)), ns(now - 400 * 24 * 3600_000), ns(now), ns(now + 23 * 3600_000)]) assert.equal(flag(t), 0, t);
  });

  void test('agrees with the documented bounds for any time (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Date.UTC(2261, 0, 1) }), (ms) => {
      const expected = ms < Date.UTC(1990, 0, 1) || ms > now + 24 * 3600_000 ? 1 : 0;
      assert.equal(flag(ns(ms)), expected);
    }));
  });
});
