import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitHostPort, unbracket } from '../../../src/receive/listen.ts';

void describe('listen addresses', () => {
  void test('host:port, IPv6 in brackets, port 0', () => {
    assert.deepEqual(splitHostPort('0.0.0.0:4317'), { host: '0.0.0.0', port: 4317 });
    assert.deepEqual(splitHostPort('[::1]:0'), { host: '[::1]', port: 0 });
    assert.deepEqual(splitHostPort('localhost:4318'), { host: 'localhost', port: 4318 });
    assert.equal(unbracket('[::1]'), '::1');
    assert.equal(unbracket('127.0.0.1'), '127.0.0.1');
  });
  void test('missing host or port, or a port out of range, is refused', () => {
    for (const bad of ['4317', ':4317', 'host:', 'host:70000', 'host:-1', 'host:12a']) {
      assert.throws(() => splitHostPort(bad), TypeError, bad);
    }
  });
});
