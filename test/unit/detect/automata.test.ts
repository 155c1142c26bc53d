/**
 * The candidate index's string automata against the plain string methods they replace: every
 * needle reported must be exactly the needles that `includes` / `startsWith` / `endsWith` find
 * (on the lower-cased value), on random needles and values over a small alphabet (so needles
 * overlap, nest and share prefixes), with dense, partly sparse and split automata.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AffixTrie, substringIndex, type Marker, type Postings } from '../../../src/detect/rules/automata.ts';
import { AsciiDfa } from '../../../src/detect/rules/dfa.ts';
import { EventView, FieldSlots } from '../../../src/detect/rules/event-view.ts';
import { RoutePrefilter } from '../../../src/detect/rules/prefilter.ts';
import type { Witness } from '../../../src/detect/rules/combine.ts';
import { rng } from '../../helpers/rng.ts';


const word = (r: () => number, alphabet: string, min: number, max: number) => {
  const n = min + Math.floor(r() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]!;
  return s;
};

/** Needle i has postings [i]. */
function needleMap(needles: readonly string[]): Map<string, Postings> {
  return new Map([...new Set(needles)].map((s, i) => [s, [i]]));
}

function found(run: (to: Marker) => void): number[] {
  const got = new Set<number>();
  run({ hit: (p) => p.forEach((x) => got.add(x)) });
  return [...got].sort((a, b) => a - b);
}

function expected(needles: Map<string, Postings>, ok: (needle: string) => boolean): number[] {
  return [...needles].filter(([s]) => ok(s)).map(([, p]) => p[0]!).sort((a, b) => a - b);
}

void describe('AsciiDfa', () => {
  void test('finds exactly the needles includes() finds: dense, partly sparse (small table) and root-only tables', () => {
    const r = rng(7);
    const alphabet = 'abcAB\\.-\u2013 x';
    for (let round = 0; round < 40; round++) {
      const needles = needleMap(Array.from({ length: 1 + Math.floor(r() * 30) }, () => word(r, alphabet, 1, 5).toLowerCase()));
      for (const maxEntries of [1 << 19, 40, 1]) {
        const dfa = AsciiDfa.build(needles, maxEntries);
        assert.ok(dfa);
        for (let i = 0; i < 30; i++) {
          const value = word(r, alphabet, 0, 40).toLowerCase();
          assert.deepEqual(found((to) => dfa.scan(value, to)), expected(needles, (s) => value.includes(s)), `${JSON.stringify([...needles.keys()])} in ${JSON.stringify(value)} (max ${maxEntries})`);
        }
      }
    }
  });

  void test('scanFolded(x) equals scan(x.toLowerCase()) for ASCII needles, including characters that lower-case to ASCII', () => {
    const r = rng(11);
    const alphabet = 'abkKAB\u212a\u0130i\u03a3s';
    for (let round = 0; round < 40; round++) {
      const needles = needleMap(Array.from({ length: 1 + Math.floor(r() * 20) }, () => word(r, 'abkis', 1, 4)));
      for (const maxEntries of [1 << 19, 8]) {
        const dfa = AsciiDfa.build(needles, maxEntries)!;
        assert.equal(dfa.asciiOnly, true);
        for (let i = 0; i < 30; i++) {
          const value = word(r, alphabet, 0, 30);
          const lower = value.toLowerCase();
          assert.deepEqual(found((to) => dfa.scanFolded(value, to)), expected(needles, (s) => lower.includes(s)), `${JSON.stringify(value)}`);
        }
      }
    }
  });

  void test('more than 254 distinct characters: no DFA; substringIndex splits and still finds every needle', () => {
    const wide = Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x4e00 + i));
    const list = [...wide, 'abc', 'bcd', 'x\u2013y', 'x-y', 'needle', '\u4e01abc'];
    const needles = needleMap(list);
    assert.equal(AsciiDfa.build(needles), null);
    const index = substringIndex(needles)!;
    for (const value of ['zabcdz', 'x\u2013y and x-y', '\u4e00\u4e01abc', 'nothing here', '\u4e05needle']) {
      assert.deepEqual(found((to) => index.scan(value, to)), expected(needles, (s) => value.includes(s)), value);
    }
  });
});

void describe('AffixTrie', () => {
  void test('prefix and suffix tries report exactly the needles startsWith / endsWith accept, including the empty needle', () => {
    const r = rng(3);
    for (let round = 0; round < 60; round++) {
      const list = Array.from({ length: 1 + Math.floor(r() * 25) }, () => word(r, 'ab\\.\u2013', round % 10 === 0 ? 0 : 1, 6));
      const needles = needleMap(list);
      const sw = new AffixTrie(needles, false);
      const ew = new AffixTrie(needles, true);
      for (let i = 0; i < 30; i++) {
        const value = word(r, 'ab\\.\u2013', 0, 12);
        assert.deepEqual(found((to) => sw.walk(value, to)), expected(needles, (s) => value.startsWith(s)), `sw ${JSON.stringify(list)} ${JSON.stringify(value)}`);
        assert.deepEqual(found((to) => ew.walk(value, to)), expected(needles, (s) => value.endsWith(s)), `ew ${JSON.stringify(list)} ${JSON.stringify(value)}`);
      }
    }
  });
});

void describe('RoutePrefilter value memo', () => {
  void test('repeated values give the same candidates as the first time, also after the memo was cleared by many distinct values', () => {
    const slots = new FieldSlots();
    const table = Int32Array.from(['A'], (f) => slots.slot(f));
    const witnesses: Witness[] = [
      [{ f: 0, k: 'ew', s: '\\whoami.exe' }],
      [{ f: 0, k: 'sw', s: 'c:\\windows\\' }],
      [{ f: 0, k: 'ct', s: 'temp' }],
      [{ f: 0, k: 'eq', s: 'c:\\windows\\system32\\cmd.exe' }],
    ];
    const pf = new RoutePrefilter(witnesses.map((witness) => ({ witness, slots: table })));
    const view = new EventView(slots);
    let stamp = 0;
    const candidates = (value: string) => {
      view.reset({ fields: { A: value }, meta: { source: 't', product: undefined, service: undefined, host: '' } });
      const n = pf.candidates(view, ++stamp);
      return [...pf.list.subarray(0, n)];
    };
    const cases: [string, number[]][] = [
      ['C:\\Windows\\System32\\whoami.exe', [0, 1]],
      ['C:\\Windows\\System32\\cmd.exe', [1, 3]],
      ['D:\\Temp\\x.exe', [2]],
      ['other', []],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [value, want] of cases) assert.deepEqual(candidates(value), want, `${value} (round ${round})`);
      for (let i = 0; i < 5000; i++) candidates(`unique value ${round} ${i}`); // > MEMO_MAX_CHARS: clears the memo
    }
  });
});
