/** RecentSet: remembers the last `capacity` keys; keys() lists them oldest first, also after wrapping around. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentSet } from '../../../src/store/recent-set.ts';

void test('forgets the oldest past capacity; keys() oldest first before and after wrapping; a re-add is not a new key', () => {
  const s = new RecentSet(3);
  s.add('a');
  s.add('b');
  assert.deepEqual(s.keys(), ['a', 'b']);
  s.add('b');
  s.add('c');
  s.add('d');
  s.add('e');
  assert.deepEqual(s.keys(), ['c', 'd', 'e']);
  assert.equal(s.has('a'), false);
  assert.equal(s.has('b'), false);
  assert.equal(s.has('e'), true);
  // Restoring from keys() gives the same set and the same eviction order.
  const t = new RecentSet(3);
  for (const k of s.keys()) t.add(k);
  t.add('f');
  assert.deepEqual(t.keys(), ['d', 'e', 'f']);
});
