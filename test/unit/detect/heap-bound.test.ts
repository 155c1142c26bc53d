import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { heapBound } from '../../../src/detect/heap-bound.ts';

test('a worker collects once its heap is the margin past its compiled size, and not before', () => {
  let collected = 0;
  const used = v8.getHeapStatistics().used_heap_size;
  const within = heapBound(used, () => collected++, 64);
  assert.equal(within(), false, '64 MB of room: nothing to do');
  assert.equal(collected, 0);
  const past = heapBound(used - 2 * 2 ** 20, () => collected++, 1);
  assert.equal(past(), true, 'a heap 2 MB past a 1 MB margin is collected');
  assert.equal(collected, 1);
  // The collect passed here only counts, so the heap stays where it is: the next bound is measured from it, and
  // a live set that grew past the first bound is not collected again after every task.
  assert.equal(past(), false);
  assert.equal(collected, 1);
});
