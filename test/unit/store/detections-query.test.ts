/** The detections filters as text (flags, URL parameters) and the SQL they become: values only ever as bound parameters. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectionsSql, filterTextFromParams, filterTextToParams, parseDetectionsFilter, parseDuration } from '../../../src/store/detections-query.ts';

describe('parseDetectionsFilter', () => {
  test('defaults: the last 24 hours of detection time, 100 rows', () => {
    assert.deepEqual(parseDetectionsFilter({}), { sinceSeconds: 86_400, timeColumn: 'detected_at', limit: 100 });
  });

  test('--since accepts all and years; --event-time switches the time column; --limit 0 is all', () => {
    const f = parseDetectionsFilter({ since: 'all', eventTime: true, limit: '0' });
    assert.equal(f.sinceSeconds, undefined);
    assert.equal(f.timeColumn, 'event_time');
    assert.equal(f.limit, 0);
    assert.equal(parseDuration('100y'), 100 * 365 * 86_400);
    assert.equal(parseDetectionsFilter({ since: 'ALL' }).sinceSeconds, undefined);
  });

  test('each wrong filter is named with what it accepts', () => {
    assert.throws(() => parseDetectionsFilter({ since: 'yesterday' }), /--since: got "yesterday"; expected .*100y/);
    assert.throws(() => parseDetectionsFilter({ level: 'urgent' }), /--level: got "urgent"; expected one of informational, low, medium, high, critical/);
    assert.throws(() => parseDetectionsFilter({ source: 'live' }), /--source: got "live"; expected one of stream, hunt/);
    assert.throws(() => parseDetectionsFilter({ limit: '-1' }), /--limit: got "-1"/);
    assert.throws(() => parseDetectionsFilter({ limit: '2.5' }), /--limit/);
    assert.throws(() => parseDetectionsFilter({ tag: ' ' }), /--tag/);
    assert.deepEqual(parseDetectionsFilter({ level: 'HIGH', tag: 'ATTACK.T1110' }).minLevel, 'high');
  });
});

describe('URL parameters mirror the flags', () => {
  test('round trip, and unknown or repeated parameters are refused', () => {
    const text = { since: '7d', eventTime: true, rule: 'r-1', level: 'high', host: 'web-1', source: 'stream', tag: 'attack.t1110', limit: '0' };
    const params = filterTextToParams(text);
    assert.equal(params.toString(), 'since=7d&event-time=true&rule=r-1&level=high&host=web-1&source=stream&tag=attack.t1110&limit=0');
    assert.deepEqual(filterTextFromParams(params), text);
    assert.throws(() => filterTextFromParams(new URLSearchParams('sinse=1h')), /unknown parameter "sinse"/);
    assert.throws(() => filterTextFromParams(new URLSearchParams('host=a&host=b')), /given twice/);
    assert.throws(() => filterTextFromParams(new URLSearchParams('event-time=maybe')), /--event-time/);
    assert.equal(filterTextFromParams(new URLSearchParams('event-time')).eventTime, true);
  });
});

describe('detectionsSql', () => {
  test('user values travel only as bound parameters', () => {
    const hostile = "x' OR 1=1 --";
    const { query, params } = detectionsSql({ database: 'otel_sigma', table: 'detections', ruleId: hostile, host: hostile, tag: hostile, source: 'hunt', minLevel: 'high', sinceSeconds: 3600 }, 1_800_000_000_000);
    assert.doesNotMatch(query, /OR 1=1/);
    assert.equal(params['rule_id'], hostile);
    assert.equal(params['host'], hostile);
    assert.deepEqual(params['levels'], ['high', 'critical']);
    assert.equal(params['since_ms'], 1_800_000_000_000 - 3_600_000);
    assert.match(query, /WHERE detected_at >= fromUnixTimestamp64Milli\(\{since_ms:Int64\}, 'UTC'\)/);
    assert.match(query, /ORDER BY detected_at DESC, rule_id LIMIT \{limit:UInt64\}$/);
  });

  test('event time orders and filters on event_time; limit 0 has no LIMIT; a window before 1970 has no bound', () => {
    const { query, params } = detectionsSql({ database: 'd', table: 't', timeColumn: 'event_time', limit: 0, sinceSeconds: 1e12 });
    assert.doesNotMatch(query, /LIMIT|WHERE/);
    assert.match(query, /ORDER BY event_time DESC/);
    assert.deepEqual(params, {});
    assert.throws(() => detectionsSql({ database: 'd', table: 't; DROP', limit: 1 }), /"table"/);
  });
});
