/** Every value modifier of Sigma 2.1 (spec appendix "Modifiers"), with the spec's and pySigma's examples. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { base64Offsets, KNOWN_MODIFIERS, windash } from '../../../src/detect/rules/modifiers.ts';
import { STAR } from '../../../src/detect/rules/sigma-string.ts';
import { timePart } from '../../../src/detect/rules/values.ts';
import { compile, rejection } from './helpers.ts';

const one = (item: string) => compile(`sel:\n  ${item}\ncondition: sel`);

void describe('contains / startswith / endswith / all', () => {
  void test('add the wildcards', () => {
    const c = one(`A|contains: 'mid'`);
    assert.ok(c({ A: 'xxMIDxx' }));
    assert.ok(!c({ A: 'mi d' }));
    const s = one(`A|startswith: 'pre'`);
    assert.ok(s({ A: 'prefix' }));
    assert.ok(!s({ A: 'xpre' }));
    const e = one(`A|endswith: '.exe'`);
    assert.ok(e({ A: 'a.EXE' }));
    assert.ok(!e({ A: 'a.exe ' }));
  });

  void test('keep wildcards already in the value', () => {
    const c = one(`A|contains: '*a?c*'`);
    assert.ok(c({ A: 'xxabcxx' }));
    assert.ok(!c({ A: 'xxacxx' }));
  });

  void test('all: every value must match', () => {
    const m = one(`CommandLine|contains|all: ['-enc', 'bypass']`);
    assert.ok(m({ CommandLine: 'powershell -Enc AAA -ep Bypass' }));
    assert.ok(!m({ CommandLine: 'powershell -Enc AAA' }));
  });
});

void describe('re, i, m, s', () => {
  void test('an unanchored, case-sensitive search by default', () => {
    const m = one(`A|re: 'ab+c'`);
    assert.ok(m({ A: 'xxabbbcxx' }));
    assert.ok(!m({ A: 'ABBC' }));
  });

  void test('i, ignorecase and a leading (?i) make it case-insensitive', () => {
    for (const item of [`A|re|i: 'ab+c'`, `A|re|ignorecase: 'ab+c'`, `A|re: '(?i)ab+c'`]) {
      const m = one(item);
      assert.ok(m({ A: 'xxABBbCxx' }), item);
      assert.ok(!m({ A: 'ac' }), item);
    }
  });

  void test('m: ^ and $ per line; s: dot matches newline', () => {
    const noM = one(`A|re: '^b$'`);
    const m = one(`A|re|m: '^b$'`);
    assert.ok(!noM({ A: 'a\nb\nc' }));
    assert.ok(m({ A: 'a\nb\nc' }));
    const noS = one(`A|re: 'a.b'`);
    const s = one(`A|re|s: 'a.b'`);
    assert.ok(!noS({ A: 'a\nb' }));
    assert.ok(s({ A: 'a\nb' }));
  });

  void test('takes the raw string: no Sigma wildcard or escape processing', () => {
    const m = one(`A|re: '\\\\temp\\\\.*\\.exe'`);
    assert.ok(m({ A: 'C:\\temp\\x.exe' }));
    assert.ok(!m({ A: 'C:\\tempx.exe' }));
  });

  void test('must be the first modifier; flags need re; bad patterns are refused with the reason', () => {
    assert.match(rejection(`sel:\n  A|contains|re: 'x'\ncondition: sel`), /'re' must come first/);
    assert.match(rejection(`sel:\n  A|contains|i: 'x'\ncondition: sel`), /needs a preceding 're'/);
    assert.match(rejection(`sel:\n  A|re: '(unclosed'\ncondition: sel`), /invalid regular expression/);
    assert.match(rejection(`sel:\n  A|re: '(a)\\1'\ncondition: sel`), /linear time/);
  });
});

void describe('cased', () => {
  void test('makes the match case-sensitive, wildcards still apply', () => {
    const m = one(`A|cased: 'CaSe'`);
    assert.ok(m({ A: 'CaSe' }));
    assert.ok(!m({ A: 'case' }));
    const c = one(`A|contains|cased: 'X'`);
    assert.ok(c({ A: 'aXa' }));
    assert.ok(!c({ A: 'axa' }));
  });
});

void describe('exists', () => {
  void test('tests presence only', () => {
    const t = one('A|exists: true');
    const f = one('A|exists: false');
    assert.ok(t({ A: '' }));
    assert.ok(!t({}));
    assert.ok(f({}));
    assert.ok(!f({ A: 'x' }));
  });
  void test('takes a boolean and must come first', () => {
    assert.match(rejection(`sel:\n  A|exists: 'yes'\ncondition: sel`), /takes true or false/);
    assert.match(rejection(`sel:\n  A|contains|exists: true\ncondition: sel`), /must come first/);
  });
});

void describe('neq', () => {
  void test('the field differs from every value (NOT of the OR)', () => {
    const m = one(`A|neq: [x, y]`);
    assert.ok(m({ A: 'z' }));
    assert.ok(!m({ A: 'X' }));
    assert.ok(!m({ A: 'y' }));
    assert.ok(m({}), 'pySigma wraps the item in NOT, so a missing field matches');
  });
});

void describe('fieldref', () => {
  void test('compares with another field of the same event', () => {
    const m = one(`ParentImage|fieldref: Image`);
    assert.ok(m({ Image: 'C:\\a.exe', ParentImage: 'c:\\A.EXE' }));
    assert.ok(!m({ Image: 'C:\\a.exe', ParentImage: 'C:\\b.exe' }));
    assert.ok(!m({ ParentImage: 'x' }), 'the other field must exist');
  });

  void test('with contains / startswith / endswith and neq', () => {
    const c = one(`CommandLine|fieldref|contains: Image`);
    assert.ok(c({ Image: 'evil.exe', CommandLine: 'run evil.exe now' }));
    const s = one(`CommandLine|fieldref|startswith: Image`);
    assert.ok(s({ Image: 'evil.exe', CommandLine: 'evil.exe now' }));
    assert.ok(!s({ Image: 'evil.exe', CommandLine: 'run evil.exe' }));
    const n = one(`SourceUser|fieldref|neq: TargetUser`);
    assert.ok(n({ SourceUser: 'a', TargetUser: 'b' }));
    assert.ok(!n({ SourceUser: 'a', TargetUser: 'A' }));
  });

  void test('refuses wildcards', () => {
    assert.match(rejection(`sel:\n  A|fieldref: 'B*'\ncondition: sel`), /without wildcards/);
  });
});

void describe('cidr', () => {
  void test('IPv4', () => {
    const m = one(`DestinationIp|cidr: ['10.0.0.0/8', '192.168.1.0/24']`);
    assert.ok(m({ DestinationIp: '10.1.2.3' }));
    assert.ok(m({ DestinationIp: '192.168.1.255' }));
    assert.ok(!m({ DestinationIp: '192.168.2.1' }));
    assert.ok(!m({ DestinationIp: 'not an ip' }));
    assert.ok(m({ DestinationIp: '::ffff:10.0.0.1' }), 'IPv4-mapped IPv6');
  });

  void test('IPv6, as SigmaHQ writes it', () => {
    const m = one(`IpAddress|cidr: ['::1/128', '2603:1061:1300::/40', '2a01:111:f400::/48', 'fe80::/10']`);
    assert.ok(m({ IpAddress: '::1' }));
    assert.ok(m({ IpAddress: '2603:1061:1300:0:1::abcd' }));
    assert.ok(m({ IpAddress: '2603:1061:13ff::1' }));
    assert.ok(!m({ IpAddress: '2603:1061:1400::1' }));
    assert.ok(m({ IpAddress: '2a01:111:F400:1::5' }));
    assert.ok(m({ IpAddress: 'fe80::1%eth0' }), 'zone index');
    assert.ok(!m({ IpAddress: '::2' }));
    assert.ok(!m({ IpAddress: '127.0.0.1' }));
  });

  void test('refuses what is not a network', () => {
    assert.match(rejection(`sel:\n  A|cidr: '10.0.0.0/33'\ncondition: sel`), /prefix length/);
    assert.match(rejection(`sel:\n  A|cidr: 'abc'\ncondition: sel`), /not an IPv4 or IPv6 network/);
  });
});

void describe('base64, base64offset, wide / utf16*', () => {
  void test("base64offset gives pySigma's three variants (IEX → SUVY, lFW, JRV)", () => {
    assert.deepEqual(base64Offsets(Buffer.from('IEX')), ['SUVY', 'lFW', 'JRV']);
    assert.deepEqual(base64Offsets(Buffer.from('http://')), ['aHR0cDovL', 'h0dHA6Ly', 'odHRwOi8v']);
  });

  void test('base64offset|contains finds the value at every byte offset of an encoded string', () => {
    const m = one(`CommandLine|base64offset|contains: 'IEX'`);
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}IEX (New-Object Net.WebClient)`).toString('base64');
      assert.ok(m({ CommandLine: `powershell -enc ${encoded}` }), `offset ${prefix.length}`);
    }
    assert.ok(!m({ CommandLine: Buffer.from('iex').toString('base64') }), 'a different value (iex) has a different encoding');
  });

  void test('base64|contains', () => {
    const m = one(`A|base64|contains: 'cmd.exe'`);
    assert.ok(m({ A: `x ${Buffer.from('cmd.exe').toString('base64')} y` }));
  });

  void test('wide / utf16le put a NUL after each character before encoding', () => {
    for (const mod of ['wide', 'utf16le']) {
      const m = one(`A|${mod}|base64offset|contains: 'cmd'`);
      for (const prefix of ['', 'x', 'xy']) {
        const enc = Buffer.from(`${prefix}cmd /c whoami`, 'utf16le').toString('base64');
        assert.ok(m({ A: enc }), `${mod} offset ${prefix.length}`);
      }
    }
  });

  void test('utf16be and utf16 (BOM FF FE + little-endian)', () => {
    const be = one(`A|utf16be|base64: 'ab'`);
    assert.ok(be({ A: Buffer.from([0, 0x61, 0, 0x62]).toString('base64') }));
    const bom = one(`A|utf16|base64: 'ab'`);
    assert.ok(bom({ A: Buffer.from([0xff, 0xfe, 0x61, 0, 0x62, 0]).toString('base64') }));
  });

  void test('refuse wildcards', () => {
    assert.match(rejection(`sel:\n  A|base64: 'a*'\ncondition: sel`), /cannot encode a value with wildcards/);
  });
});

void describe('windash', () => {
  void test('expands - and / into all five dash characters (- / – — ―)', () => {
    const m = one(`CommandLine|contains|windash: ' -exec'`);
    for (const d of ['-', '/', '\u2013', '\u2014', '\u2015']) assert.ok(m({ CommandLine: `x.exe ${d}exec y` }), JSON.stringify(d));
    assert.ok(!m({ CommandLine: 'x.exe _exec' }));
  });

  void test('every combination when there are several dashes (5^n), none inside words', () => {
    assert.equal(windash(['-a -b']).length, 25);
    assert.deepEqual(windash(['x-y']), [['x-y']], 'a dash after a word character is not a parameter');
    const m = one(`CommandLine|contains|windash: '-a -b'`);
    assert.ok(m({ CommandLine: 'p /a \u2014b' }));
    assert.ok(windash([STAR, '-a', STAR]).every((p) => p[0] === STAR && p[2] === STAR));
  });

  void test('expansions stay OR-ed under all: (any variant of a) AND (any variant of b)', () => {
    const m = one(`CommandLine|contains|windash|all: ['-a', '-b']`);
    assert.ok(m({ CommandLine: 'p /a -b' }));
    assert.ok(m({ CommandLine: 'p \u2013a /b' }));
    assert.ok(!m({ CommandLine: 'p /a' }));
  });

  void test('endswith|windash', () => {
    const m = one(`CommandLine|endswith|windash: ' -s'`);
    assert.ok(m({ CommandLine: 'svc /s' }));
    assert.ok(!m({ CommandLine: 'svc /s x' }));
  });
});

void describe('expand (placeholders)', () => {
  const opts = { placeholders: { Admins: ['alice', 'bob*'], Servers: ['srv1'] } };

  void test('a placeholder becomes its configured values, OR-ed (values are Sigma strings)', () => {
    const m = compile(`sel:\n  User|expand: '%Admins%'\ncondition: sel`, opts);
    assert.ok(m({ User: 'ALICE' }));
    assert.ok(m({ User: 'bobby' }));
    assert.ok(!m({ User: 'carol' }));
  });

  void test('inside text, with other modifiers, several placeholders', () => {
    const m = compile(`sel:\n  A|contains|expand: '%Admins%@%Servers%'\ncondition: sel`, opts);
    assert.ok(m({ A: 'login alice@srv1 ok' }));
    assert.ok(!m({ A: 'login carol@srv1' }));
  });

  void test('\\% is a literal percent sign; %..% without expand is literal text', () => {
    const m = compile(`sel:\n  A|expand: '100\\%'\ncondition: sel`, opts);
    assert.ok(m({ A: '100%' }));
    const lit = one(`A|contains: '%Admins%'`);
    assert.ok(lit({ A: 'x%admins%x' }));
  });

  void test('an unconfigured placeholder rejects the rule and names the config key', () => {
    const reason = rejection(`sel:\n  User|expand: '%DomainControllers%'\ncondition: sel`);
    assert.match(reason, /%DomainControllers%/);
    assert.match(reason, /rules\.placeholders\.DomainControllers/);
  });
});

void describe('numeric comparisons and time parts', () => {
  void test('lt / lte / gt / gte compare numbers; non-numbers do not match', () => {
    const lt = one('A|lt: 10');
    const lte = one('A|lte: 10');
    const gt = one('A|gt: 10');
    const gte = one('A|gte: 10');
    assert.deepEqual([lt({ A: 9 }), lt({ A: 10 }), lte({ A: '10' }), gt({ A: 10.5 }), gt({ A: 10 }), gte({ A: 10 })], [true, false, true, true, false, true]);
    assert.ok(!gt({ A: 'abc' }));
    assert.ok(!gt({}));
    assert.match(rejection(`sel:\n  A|gt: abc\ncondition: sel`), /needs a number/);
  });

  void test('time parts are read as written (no timezone conversion); epoch numbers as UTC', () => {
    assert.equal(timePart('2024-03-05T14:07:00+02:00', 'hour'), 14);
    assert.equal(timePart('2024-03-05 14:07:00', 'minute'), 7);
    assert.equal(timePart('2024-03-05T14:07:00Z', 'day'), 5);
    assert.equal(timePart('2024-03-05T14:07:00Z', 'month'), 3);
    assert.equal(timePart('2024-03-05T14:07:00Z', 'year'), 2024);
    assert.equal(timePart('2024-01-01', 'week'), 1);
    assert.equal(timePart('2021-01-03', 'week'), 53, 'ISO week of a Sunday before the first Thursday');
    assert.equal(timePart('1700000000', 'hour'), 22);
    assert.equal(timePart('1700000000000', 'hour'), 22);
    assert.equal(timePart('garbage', 'hour'), undefined);
  });

  void test('a time part alone is equality; chained with gte it compares', () => {
    const eq = one(`Time|hour: 3`);
    assert.ok(eq({ Time: '2024-01-01T03:59:00Z' }));
    assert.ok(!eq({ Time: '2024-01-01T04:00:00Z' }));
    const night = compile(`a:\n  Time|hour|gte: 22\nb:\n  Time|hour|lt: 6\ncondition: a or b`);
    assert.ok(night({ Time: '2024-01-01T23:10:00Z' }));
    assert.ok(night({ Time: '2024-01-01T05:10:00Z' }));
    assert.ok(!night({ Time: '2024-01-01T12:00:00Z' }));
  });
});

void describe('unknown modifiers', () => {
  void test('reject the rule with the modifier name and the list of known ones', () => {
    const reason = rejection(`sel:\n  CommandLine|contians: x\ncondition: sel`);
    assert.match(reason, /unknown modifier 'contians' in 'CommandLine\|contians'/);
    for (const m of KNOWN_MODIFIERS) assert.ok(reason.includes(m), m);
  });
});
