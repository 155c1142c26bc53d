import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatEpochMs, formatEpochNs, toInsertRow, DETECTION_COLUMNS } from '../../../src/store/detection-row.ts';
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

void describe('toInsertRow', () => {
  void test('maps every Detection field to its column, dropping rule metadata the table does not keep', () => {
    const d = makeDetection({ eventTimeNs: '1795313919422456789', detectedAtMs: 1795313919999, severityNumber: 17 });
    const row = toInsertRow(d);
    assert.deepEqual(Object.keys(row), [...DETECTION_COLUMNS]);
    assert.equal(row.event_time, '2026-11-22 02:18:39.422456789');
    assert.equal(row.detected_at, '2026-11-22 02:18:39.999');
    assert.equal(row.rule_id, d.ruleId);
    assert.deepEqual(row.matched, d.matched);
    assert.deepEqual(row.log_attributes, d.logAttributes);
    assert.equal(row.fingerprint, d.fingerprint);
    assert.equal(row.severity_number, 17);
  });

  void test('lone surrogates become U+FFFD everywhere, well-formed text is untouched', () => {
    const row = toInsertRow(makeDetection({ body: 'a\ud800b', host: '\udc00', matched: { 'k\ud800': 'v\udfff' }, ruleTags: ['t\ud800'], sigmaEvent: '{"x":"😀"}' }));
    assert.equal(row.body, 'a\ufffdb');
    assert.equal(row.host, '\ufffd');
    assert.deepEqual(row.matched, { 'k\ufffd': 'v\ufffd' });
    assert.deepEqual(row.rule_tags, ['t\ufffd']);
    assert.equal(row.sigma_event, '{"x":"😀"}');
  });

  void test('severity_number is clamped into UInt8', () => {
    assert.equal(toInsertRow(makeDetection({ severityNumber: -3 })).severity_number, 0);
    assert.equal(toInsertRow(makeDetection({ severityNumber: 300 })).severity_number, 255);
    assert.equal(toInsertRow(makeDetection({ severityNumber: Number.NaN })).severity_number, 0);
  });
});
