import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, classifyStatus, DEFAULT_RETRY, parseRetryAfter } from '../../../src/alert/retry-policy.ts';

void describe('classifyStatus', () => {
  void test('2xx ok; 408, 429 and 5xx retried; other 4xx permanent', () => {
    const got = [200, 202, 204, 301, 400, 401, 403, 404, 405, 408, 413, 422, 429, 500, 502, 503, 504].map((s) => `${s}:${classifyStatus(s)}`);
    assert.deepEqual(got, [
      '200:ok', '202:ok', '204:ok', '301:permanent', '400:permanent', '401:permanent', '403:permanent', '404:permanent', '405:permanent',
      '408:retry', '413:permanent', '422:permanent', '429:retry', '500:retry', '502:retry', '503:retry', '504:retry',
    ]);
  });
});

void describe('backoffMs', () => {
  const opts = { ...DEFAULT_RETRY, baseMs: 100, maxMs: 1000 };
  void test('doubles per attempt between half and the full step, capped at maxMs', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 40].map((a) => backoffMs(a, opts, () => 0)), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual([1, 2, 3, 4, 5, 40].map((a) => backoffMs(a, opts, () => 1)), [100, 200, 400, 800, 1000, 1000]);
  });
  void test('jitter spreads retries', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffMs(3, opts)));
    assert.ok(seen.size > 10, `only ${seen.size} distinct delays`);
    for (const d of seen) assert.ok(d >= 200 && d <= 400, String(d));
  });
});

void describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1);
  void test('delay-seconds and HTTP-date, clamped to [0, max]', () => {
    assert.equal(parseRetryAfter('3', now, 60_000), 3000);
    assert.equal(parseRetryAfter(' 0 ', now, 60_000), 0);
    assert.equal(parseRetryAfter(new Date(now + 10_000).toUTCString(), now, 60_000), 10_000);
    assert.equal(parseRetryAfter(new Date(now - 10_000).toUTCString(), now, 60_000), 0);
    assert.equal(parseRetryAfter('86400', now, 60_000), 60_000);
  });
  void test('absent or unreadable → undefined', () => {
    for (const h of [null, undefined, '', 'soon', '-1', '1.5']) assert.equal(parseRetryAfter(h, now, 60_000), undefined, String(h));
  });
});
