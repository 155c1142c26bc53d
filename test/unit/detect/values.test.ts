/** Value matching: plain values, wildcards, escapes, special values, keywords (spec §Detection). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSigmaString, QMARK, STAR, matchGlob, stringTest } from '../../../src/detect/rules/sigma-string.ts';
import { compile } from './helpers.ts';

void describe('plain values', () => {
  void test('match the whole field, case-insensitively', () => {
    const m = compile(`sel:\n  Image: 'C:\\Windows\\System32\\cmd.exe'\ncondition: sel`);
    assert.ok(m({ Image: 'c:\\windows\\system32\\CMD.EXE' }));
    assert.ok(!m({ Image: 'C:\\Windows\\System32\\cmd.exe.bak' }), 'anchored at the end');
    assert.ok(!m({ Image: 'D:C:\\Windows\\System32\\cmd.exe' }), 'anchored at the start');
    assert.ok(!m({}), 'missing field');
  });

  void test('a list is OR-ed, a map is AND-ed, a list of maps is OR-ed', () => {
    const m = compile(`sel:\n  - A: [x, y]\n    B: z\n  - C: w\ncondition: sel`);
    assert.ok(m({ A: 'y', B: 'z' }));
    assert.ok(!m({ A: 'y', B: 'q' }));
    assert.ok(m({ C: 'W' }));
    assert.ok(!m({ A: 'q', B: 'z' }));
  });

  void test('numbers and booleans compare with the string forms of event values', () => {
    const m = compile(`sel:\n  EventID: 4688\n  Signed: true\ncondition: sel`);
    assert.ok(m({ EventID: 4688, Signed: true }));
    assert.ok(m({ EventID: '4688', Signed: 'True' }));
    assert.ok(!m({ EventID: 46880, Signed: true }));
    assert.ok(!m({ EventID: 4688, Signed: 'false' }));
  });

  void test('a number also matches as written in the rule (0x10 is 16 in YAML, both forms match)', () => {
    const m = compile(`sel:\n  LogonType: 0x10\ncondition: sel`);
    assert.ok(m({ LogonType: 16 }));
    assert.ok(m({ LogonType: '0x10' }));
  });

  void test('null matches a missing or empty field; an empty list is null', () => {
    for (const v of ['null', '~', '[]']) {
      const m = compile(`sel:\n  A: x\n  B: ${v}\ncondition: sel`);
      assert.ok(m({ A: 'x' }), `${v}: missing`);
      assert.ok(m({ A: 'x', B: '' }), `${v}: empty`);
      assert.ok(m({ A: 'x', B: null }), `${v}: JSON null`);
      assert.ok(!m({ A: 'x', B: 'y' }), `${v}: present`);
    }
  });

  void test("not null: a negated null selection; '' matches only the empty string", () => {
    const notNull = compile(`sel:\n  B: null\ncondition: not sel`);
    assert.ok(notNull({ B: 'y' }));
    assert.ok(!notNull({}));
    const empty = compile(`sel:\n  B: ''\ncondition: sel`);
    assert.ok(empty({ B: '' }));
    assert.ok(!empty({}));
    assert.ok(!empty({ B: 'x' }));
  });

  void test('list-valued event fields match when any element matches', () => {
    const m = compile(`sel:\n  Tags|contains: evil\ncondition: sel`);
    assert.ok(m({ Tags: ['good', 'very EVIL'] }));
    assert.ok(!m({ Tags: ['good'] }));
  });

  void test('dotted field names reach nested objects when no flat field has that name', () => {
    const m = compile(`sel:\n  properties.appId: abc\ncondition: sel`);
    assert.ok(m({ properties: { appId: 'ABC' } }));
    assert.ok(m({ 'properties.appId': 'abc' }));
    assert.ok(!m({ properties: { other: 'abc' } }));
  });
});

void describe('wildcards and escaping', () => {
  void test('* is any run of characters, ? exactly one', () => {
    const m = compile(`sel:\n  A: 'a*b?c'\ncondition: sel`);
    assert.ok(m({ A: 'abXc' }));
    assert.ok(m({ A: 'a123bXc' }));
    assert.ok(!m({ A: 'abc' }), '? is mandatory');
    assert.ok(!m({ A: 'a1bXcd' }));
  });

  void test('wildcard matching crosses newlines', () => {
    const m = compile(`sel:\n  A: 'first*last'\ncondition: sel`);
    assert.ok(m({ A: 'first\nmiddle\r\nlast' }));
  });

  void test('spec examples: \\* literal star, \\\\* backslash + wildcard, \\\\\\* backslash + literal star', () => {
    assert.deepEqual(parseSigmaString('a\\*b'), ['a*b']);
    assert.deepEqual(parseSigmaString('a\\\\*'), ['a\\', STAR]);
    assert.deepEqual(parseSigmaString('a\\\\\\*'), ['a\\*']);
    assert.deepEqual(parseSigmaString('\\\\\\\\'), ['\\\\'], '\\\\\\\\ is the plain value \\\\');
    assert.deepEqual(parseSigmaString('x\\?'), ['x?']);
    assert.deepEqual(parseSigmaString('?'), [QMARK]);

    const literalStar = compile(`sel:\n  A: 'a\\*b'\ncondition: sel`);
    assert.ok(literalStar({ A: 'a*b' }));
    assert.ok(!literalStar({ A: 'axb' }));
    const backslashWildcard = compile(`sel:\n  A: 'C:\\\\*'\ncondition: sel`);
    assert.ok(backslashWildcard({ A: 'C:\\anything' }));
    assert.ok(!backslashWildcard({ A: 'C:anything' }));
    const backslashStar = compile(`sel:\n  A: 'C:\\\\\\*'\ncondition: sel`);
    assert.ok(backslashStar({ A: 'C:\\*' }));
    assert.ok(!backslashStar({ A: 'C:\\x' }));
  });

  void test('a backslash before another character stays (\\W), a trailing backslash stays', () => {
    assert.deepEqual(parseSigmaString('C:\\Windows\\'), ['C:\\Windows\\']);
    const m = compile(`sel:\n  A|endswith: '\\Windows\\'\ncondition: sel`);
    assert.ok(m({ A: 'C:\\WINDOWS\\' }));
    assert.ok(!m({ A: 'C:\\Windows' }));
  });

  void test("pySigma's verified examples", () => {
    assert.deepEqual(parseSigmaString('\\\\\\*\\IPC$'), ['\\*\\IPC$']);
    assert.deepEqual(parseSigmaString('\\\\Modules\\\\*\\.ps'), ['\\Modules\\', STAR, '\\.ps']);
    assert.deepEqual(parseSigmaString('\\\\\\\\\\?\\\\GLOBALROOT'), ['\\\\?\\GLOBALROOT']);
  });

  void test('value shapes compile to string methods, anything else to the segment matcher', () => {
    assert.equal(stringTest(parseSigmaString('abc'), true).k, 'eq');
    assert.equal(stringTest(parseSigmaString('abc*'), true).k, 'sw');
    assert.equal(stringTest(parseSigmaString('*abc'), true).k, 'ew');
    assert.equal(stringTest(parseSigmaString('*abc*'), true).k, 'ct');
    assert.equal(stringTest(parseSigmaString('**'), true).k, 'any');
    const g = stringTest(parseSigmaString('*a*b?c*'), true);
    assert.equal(g.k, 'glob');
    if (g.k === 'glob') {
      assert.ok(matchGlob(g.g, 'xxaxxbyc'));
      assert.ok(matchGlob(g.g, 'abbc'));
      assert.ok(!matchGlob(g.g, 'bac'));
    }
  });
});

void describe('keywords', () => {
  void test('an unnamed list is a case-insensitive substring search over every field value', () => {
    const m = compile(`keywords:\n  - 'mimikatz'\n  - 'sekurlsa'\ncondition: keywords`);
    assert.ok(m({ CommandLine: 'run MIMIKATZ.exe' }));
    assert.ok(m({ Other: 'x', Nested: { deep: ['a', 'sekurlsa::logonpasswords'] } }));
    assert.ok(!m({ CommandLine: 'benign' }));
  });

  void test("'|all' requires every keyword (in any fields)", () => {
    const m = compile(`keywords:\n  '|all':\n    - ':179'\n    - 'BADAUTH'\ncondition: keywords`);
    assert.ok(m({ msg: 'peer 10.0.0.1:179 IP-TCP-3-BADAUTH' }));
    assert.ok(m({ a: '10.0.0.1:179', b: 'badauth' }));
    assert.ok(!m({ msg: 'IP-TCP-3-BADAUTH' }));
  });

  void test('keywords with wildcards, numbers, and a single keyword scalar', () => {
    const m = compile(`keywords: 'fail*password'\ncondition: keywords`);
    assert.ok(m({ msg: 'sshd: Failed password for root' }));
    assert.ok(!m({ msg: 'password failed' }));
    const n = compile(`keywords:\n  - 4625\ncondition: keywords`);
    assert.ok(n({ EventID: 4625 }));
    const t = compile(`keywords:\n  - 'true'\ncondition: keywords`);
    assert.ok(t({ Enabled: true }));
    assert.ok(!t({ Enabled: false }));
  });

  void test('a value shorter than a needle still matches when lower-casing lengthens it (İ → i̇)', () => {
    const m = compile(`keywords:\n  - 'İstanbul'\ncondition: keywords`);
    assert.ok(m({ city: 'İSTANBUL' }), '8 characters lower-case to 9, the needle\'s length');
    assert.ok(!m({ city: 'stanbul' }));
  });

  void test('keywords and field selections combine', () => {
    const m = compile(`keywords:\n  - evil\nsel:\n  host: a\ncondition: keywords and sel`);
    assert.ok(m({ host: 'a', msg: 'evil' }));
    assert.ok(!m({ host: 'b', msg: 'evil' }));
  });
});
