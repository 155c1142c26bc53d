/** The key interner returns exactly the string a plain UTF-8 decode would, whatever it has cached. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StringInterner } from '../../../src/decode/intern.ts';

void describe('StringInterner', () => {
  const decodeAll = (interner: StringInterner, s: string): string => {
    const b = Buffer.from(`xx${s}yy`, 'utf8');
    return interner.decode(b, 2, b.length - 2)!;
  };

  void test('same bytes give the identical cached string; different bytes never do', () => {
    const i = new StringInterner(64);
    const a = decodeAll(i, 'Channel');
    assert.equal(a, 'Channel');
    assert.equal(decodeAll(i, 'Channel'), a);
    assert.equal(decodeAll(i, 'channel'), 'channel');
    assert.equal(decodeAll(i, 'Channe1'), 'Channe1');
    assert.equal(decodeAll(i, ''), '');
  });

  void test('multi-byte UTF-8, over-long strings and slot collisions decode exactly', () => {
    const i = new StringInterner(16);
    for (const s of ['Größe', 'ключ', '🔑key', 'a'.repeat(17), 'ab'.repeat(40)]) assert.equal(decodeAll(i, s), s);
    // 20,000 distinct keys through 4,096 slots: every lookup after eviction still decodes its own bytes.
    const keys = Array.from({ length: 20_000 }, (_, n) => `k${n.toString(36)}`);
    for (let round = 0; round < 2; round++) for (const k of keys) assert.equal(decodeAll(i, k), k);
  });

  void test('the cache keeps its own copy of the bytes: a source buffer overwritten later cannot alias another key', () => {
    // Overwrite the source of a cached key with other bytes of the same length; whichever of those lands in
    // the cached key's slot must still decode to itself (a cache holding a view would answer "event_id").
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let n = 0; n < 20_000; n++) {
      const i = new StringInterner(64);
      const b = Buffer.from('event_id');
      i.decode(b, 0, b.length);
      const other = Array.from({ length: 8 }, () => String.fromCharCode(97 + (rnd() % 26))).join('');
      b.write(other);
      assert.equal(i.decode(Buffer.from(other), 0, 8), other);
    }
  });

  void test('a cached string does not change when the source buffer is reused', () => {
    const i = new StringInterner(64);
    const b = Buffer.from('event_id');
    const s = i.decode(b, 0, b.length);
    b.write('EVENT_ID');
    assert.equal(s, 'event_id');
    assert.equal(i.decode(b, 0, b.length), 'EVENT_ID');
  });

  void test('bytes that are not UTF-8 give undefined, every time (never cached), short or long', () => {
    const i = new StringInterner(16);
    for (const bad of [[0x6b, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [...Buffer.from('x'.repeat(20)), 0x80]]) {
      const b = Buffer.from(bad);
      assert.equal(i.decode(b, 0, b.length), undefined, String(bad));
      assert.equal(i.decode(b, 0, b.length), undefined, `${String(bad)} again`);
    }
  });
});
