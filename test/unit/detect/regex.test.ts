/**
 * Regex safety (src/detect/rules/regex.ts): rewritten patterns accept exactly the strings the
 * originals do, pathological pattern/input pairs finish quickly, and patterns that cannot be
 * guarded are refused. Cost figures: `node test/unit/detect/bench-regex.ts`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileSafeRegex, stripInlineFlags, type RegexFlag } from '../../../src/detect/rules/regex.ts';
import { compile } from './helpers.ts';

const safe = (p: string, flags: RegexFlag[] = []) => {
  const r = compileSafeRegex(p, new Set(flags));
  if (!r.ok) throw new Error(r.reason);
  return { test: (s: string) => r.regex.test(r.lowercaseInput ? s.toLowerCase() : s), source: r.source };
};

const elapsed = (f: () => unknown) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

void describe('rewritten patterns keep their language', () => {
  const cases: [string, RegexFlag[]][] = [
    ['ab{17,20}c', []],
    ['a.{20,}b', []],
    ['x[a-c]{0,40}y', []],
    ['(ab|c){3,18}$', []],
    ['^(?:[0-9a-f]{2}\\s?){2,20}$', []],
    ['[^/]{30,}$', []],
    ['q{0,33}', []],
    ['A[B-D]x\\Wy', ['i']],
    ['[^a-c]+Z', ['i']],
    ['\\x41b{18}', ['i']],
    ['(?:aB|c)\\d{2,17}', ['i']],
    ['a.B.*c', ['i']],
    ['x.{2}Y|^q', ['i', 's']],
    ['^a.b$', ['m', 's']],
  ];
  const alphabet = fc.constantFrom('a', 'A', 'b', 'B', 'c', 'C', 'x', 'X', 'y', 'q', 'Z', '0', '7', 'f', '/', ' ', '\n', '-');

  for (const [p, flags] of cases) {
    void test(`/${p}/${flags.join('')}`, () => {
      const ours = safe(p, flags);
      const original = new RegExp(p, flags.join(''));
      fc.assert(
        fc.property(fc.string({ unit: alphabet, maxLength: 60 }), (s) => ours.test(s) === original.test(s)),
        { numRuns: 400 },
      );
      // long runs exercise the block boundaries of the counted repetitions
      for (const n of [15, 16, 17, 18, 19, 20, 21, 30, 32, 33, 40, 41]) {
        for (const s of [`a${'b'.repeat(n)}c`, `x${'a'.repeat(n)}y`, `${'q'.repeat(n)}`, `a${'z'.repeat(n)}b`, `${'ab'.repeat(n)}`, `${'0f '.repeat(n)}`]) {
          assert.equal(ours.test(s), original.test(s), `${JSON.stringify(s)} on ${ours.source}`);
        }
      }
    });
  }

  void test('i: literals and classes are folded, escapes like \\W and \\S are not', () => {
    assert.equal(safe('A[B-D]\\W', ['i']).source, 'a[B-D\\u0062-\\u0064]\\W');
    assert.ok(safe('\\S+X', ['i']).test('..x'));
    assert.ok(!safe('\\S+X', ['i']).test(' x'));
  });

  void test('a leading (?i) (Python syntax, 16 SigmaHQ regexes) becomes the i flag', () => {
    assert.deepEqual(stripInlineFlags('(?i)abc'), { pattern: 'abc', flags: ['i'] });
    assert.deepEqual(stripInlineFlags('(?ms)abc'), { pattern: 'abc', flags: ['m', 's'] });
    assert.deepEqual(stripInlineFlags('(?:abc)'), { pattern: '(?:abc)', flags: [] });
    assert.ok('error' in stripInlineFlags('(?x)abc'));
  });
});

void describe('facts for the matcher and the prefilter', () => {
  const info = (p: string, flags: RegexFlag[] = []) => {
    const r = compileSafeRegex(p, new Set(flags));
    if (!r.ok) throw new Error(r.reason);
    return { min: r.minLength, literal: r.literal };
  };

  void test('shortest possible match', () => {
    assert.equal(info('.{1000,}').min, 1000);
    assert.equal(info('(.){200,}').min, 200);
    assert.equal(info('ab?c*d+').min, 2);
    assert.equal(info('(abc|d)e{2,5}').min, 3);
    assert.equal(info('(?:x{3})?y').min, 1);
    assert.equal(info('(?<=ab)c\\b').min, 1, 'lookbehinds and assertions match nothing');
    assert.equal(info('^$').min, 0);
  });

  void test('a literal every match contains: the longest top-level run, lower-cased', () => {
    assert.equal(info('\\\\AppData\\\\[^\\\\]+\\.exe').literal, '\\appdata\\');
    assert.equal(info('Get-Item.{1,64}-Path').literal, 'get-item');
    assert.equal(info('ab*cdef').literal, 'cdef');
    assert.equal(info('ab+c').literal, 'ab');
    assert.equal(info('abc?').literal, 'ab');
    assert.equal(info('(?:IEX|Invoke)-Expression').literal, '-expression');
    assert.equal(info('a.b').literal, 'a');
    assert.equal(info('abc|def').literal, '', 'top-level alternation: no single literal');
    assert.equal(info('ABC', ['i']).literal, 'abc');
    assert.equal(info('caf\u00e9').literal, '', 'a run with non-ASCII characters is not used');
  });
});

void describe('pathological input cannot stall a worker', () => {
  void test('(a+)+$ on 30 a and a ! (over a minute unguarded)', () => {
    const r = safe('(a+)+$');
    assert.ok(elapsed(() => assert.equal(r.test(`${'a'.repeat(30)}!`), false)) < 1000);
  });

  void test('(x+x+)+y and (.*a){12}x', () => {
    const a = safe('(x+x+)+y');
    const b = safe('(.*a){12}x');
    assert.ok(elapsed(() => assert.equal(a.test('x'.repeat(5000)), false)) < 1000);
    assert.ok(elapsed(() => assert.equal(b.test('a'.repeat(5000)), false)) < 1000);
  });

  void test("SigmaHQ's [^/]{100,}$ on a 32 KB path (about 1 s unguarded)", () => {
    const r = safe('[^/]{100,}$');
    assert.ok(elapsed(() => assert.equal(r.test(`${'a'.repeat(32_000)}/x`), false)) < 1000);
  });
});

void describe('patterns that cannot be guarded are refused', () => {
  for (const p of ['(a)\\1', '(?=a)b', 'a(?!b)', '(?<n>a)\\k<n>']) {
    void test(p, () => {
      const r = compileSafeRegex(p, new Set());
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /linear time/);
    });
  }
  void test('syntax errors are refused with the engine message', () => {
    const r = compileSafeRegex('a(b', new Set());
    assert.ok(!r.ok && /invalid regular expression/.test(r.reason));
  });
});

void describe('long values run on the linear engine', () => {
  // SigmaHQ's Invoke-Obfuscation Via Stdin: on `set x=1&&…` Irregexp stays under its backtrack fallback at
  // every start position, and 8 KB took ~0.35 s, 32 KB ~3 s per test before long values went linear.
  const detection = [
    'selection:',
    "  CommandLine|re: '(?i)(?:set).*&&\\s?set.*(?:environment|invoke|\\$\\{?input).*&&.*\"'",
    'condition: selection',
  ].join('\n');

  void test('a 32 KB command line is decided quickly, and a match at its end is still found', () => {
    const matches = compile(detection);
    const padding = 'set x=1&&set y=2&&'.repeat(1820);
    assert.ok(padding.length > 32_000);
    assert.ok(elapsed(() => assert.equal(matches({ CommandLine: padding }), false)) < 1000);
    assert.equal(matches({ CommandLine: `${padding}set a=b&&set c=invoke&&echo "x"` }), true);
    assert.equal(matches({ CommandLine: 'SET a=b&&set c=Invoke&&echo "x"' }), true, 'short values, same answers');
  });

  void test('the linear and the backtracking regex accept the same strings, long or short', () => {
    const r = compileSafeRegex('(?:set).*&&\\s?set.*(?:environment|invoke|\\$\\{?input).*&&.*"', new Set<RegexFlag>(['i']));
    assert.ok(r.ok);
    assert.ok(r.linear.flags.includes('l'));
    fc.assert(fc.property(fc.array(fc.constantFrom('set ', 'x=1', '&&', ' ', 'invoke', '${input}', '"', 'environment', 'a'), { maxLength: 60 }), (parts) => {
      const s = parts.join('');
      assert.equal(r.linear.test(s), r.regex.test(s), s);
    }), { numRuns: 500 });
  });
});
