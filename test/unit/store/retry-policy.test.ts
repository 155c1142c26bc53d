import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickHouseError } from '@clickhouse/client';
import { backoffDelayMs, clickHouseErrorCode, isRetryableStoreError } from '../../../src/store/retry-policy.ts';

const chError = (code: number, type: string): Error => new ClickHouseError({ message: `Code: ${code}. DB::Exception: x (${type})`, code: String(code), type });

void describe('isRetryableStoreError', () => {
  void test('refused data or statements are permanent (Vector: 53, 117; plus syntax, unknown table, parse, auth)', () => {
    for (const [code, type] of [[53, 'TYPE_MISMATCH'], [117, 'INCORRECT_DATA'], [62, 'SYNTAX_ERROR'], [60, 'UNKNOWN_TABLE'], [81, 'UNKNOWN_DATABASE'], [16, 'NO_SUCH_COLUMN_IN_TABLE'], [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'], [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'], [516, 'AUTHENTICATION_FAILED']] as const) {
      assert.equal(isRetryableStoreError(chError(code, type)), false, type);
    }
  });

  void test('server overload and transient server errors are retried', () => {
    for (const [code, type] of [[252, 'TOO_MANY_PARTS'], [241, 'MEMORY_LIMIT_EXCEEDED'], [159, 'TIMEOUT_EXCEEDED'], [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'], [209, 'SOCKET_TIMEOUT'], [210, 'NETWORK_ERROR'], [999, 'KEEPER_EXCEPTION']] as const) {
      assert.equal(isRetryableStoreError(chError(code, type)), true, type);
    }
  });

  void test('network errors, timeouts and anything without a ClickHouse code are retried', () => {
    assert.equal(isRetryableStoreError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isRetryableStoreError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true);
    assert.equal(isRetryableStoreError(new Error('Timeout error.')), true);
    assert.equal(isRetryableStoreError('not even an error'), true);
  });

  void test('clickHouseErrorCode reads only numeric server codes', () => {
    assert.equal(clickHouseErrorCode(chError(60, 'UNKNOWN_TABLE')), '60');
    assert.equal(clickHouseErrorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' })), undefined);
    assert.equal(clickHouseErrorCode({ code: '60' }), undefined);
  });
});

void describe('backoffDelayMs', () => {
  const opts = { baseMs: 100, maxMs: 5000 };

  void test('doubles per attempt with half of it jittered, and is capped', () => {
    assert.equal(backoffDelayMs(1, opts, () => 0), 50);
    assert.equal(backoffDelayMs(1, opts, () => 1), 100);
    assert.equal(backoffDelayMs(2, opts, () => 0), 100);
    assert.equal(backoffDelayMs(4, opts, () => 1), 800);
    assert.equal(backoffDelayMs(30, opts, () => 1), 5000);
    assert.equal(backoffDelayMs(30, opts, () => 0), 2500);
  });

  void test('real jitter stays within [exp/2, exp] and varies', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(3, opts);
      assert.ok(d >= 200 && d <= 400, String(d));
      seen.add(d);
    }
    assert.ok(seen.size > 10);
  });
});
