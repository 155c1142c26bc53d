import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { huntThreads } from '../../../src/hunt/evaluators.ts';

void describe('huntThreads', () => {
  void test('0 leaves a core to the hunt\'s own thread and the embedded ClickHouse: one per core but one, at least one', () => {
    assert.equal(huntThreads(0, 1), 1);
    assert.equal(huntThreads(0, 2), 1);
    assert.equal(huntThreads(0, 16), 15);
  });

  void test('a configured count is used as given, whatever the cores', () => {
    assert.equal(huntThreads(2, 2), 2);
    assert.equal(huntThreads(3, 16), 3);
  });
});
