import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition } from '../../../src/convert/condition.ts';
import { ruleToSql, sigmaToLike } from '../../../src/convert/rule-sql.ts';
import { convertRule, huntFilter } from '../../../src/convert/convert.ts';
import { keywordPieces } from '../../../src/convert/keyword-sql.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';

const mapping = loadLogsourceMapping();
const PC = { product: 'windows', category: 'process_creation' };

describe('Sigma condition parser', () => {
  test('precedence: not > and > or; parentheses; "1 of" / "all of"', () => {
    assert.deepEqual(parseCondition('a or b and not c'), { kind: 'or', parts: [{ kind: 'id', name: 'a' }, { kind: 'and', parts: [{ kind: 'id', name: 'b' }, { kind: 'not', part: { kind: 'id', name: 'c' } }] }] });
    assert.deepEqual(parseCondition('(a or b) and all of sel_*'), { kind: 'and', parts: [{ kind: 'or', parts: [{ kind: 'id', name: 'a' }, { kind: 'id', name: 'b' }] }, { kind: 'of', quantifier: 'all', pattern: 'sel_*' }] });
    assert.deepEqual(parseCondition('1 of them'), { kind: 'of', quantifier: 'any', pattern: 'them' });
    assert.throws(() => parseCondition('(a or b'), /missing/);
  });
});

describe('Sigma values → LIKE patterns', () => {
  test('wildcards, escapes (sigma-semantics.md) and LIKE metacharacters', () => {
    assert.equal(sigmaToLike('*\\cmd.exe'), '%\\\\cmd.exe');
    assert.equal(sigmaToLike('a?b'), 'a_b');
    assert.equal(sigmaToLike('\\*literal'), '*literal');
    assert.equal(sigmaToLike('\\\\*'), '\\\\%'); // backslash + wildcard
    assert.equal(sigmaToLike('50%_x'), '50\\%\\_x');
  });
});

describe('rule → SQL', () => {
  test('routing from the mapping data (Sysmon 1 and Security 4688 with its renames), modifiers as ILIKE', () => {
    const r0 = ruleToSql({ sel: { 'Image|endswith': '\\whoami.exe' }, condition: 'sel' }, PC, mapping);
    assert.deepEqual(r0.approximations, []);
    const r = { ...r0, where: [r0.where, ...r0.aliases.values()].join('\n') }; // logsource conditions are aliases (r_…)
    assert.match(r.where, /j_Channel ILIKE 'Microsoft-Windows-Sysmon\/Operational'/);
    assert.match(r.where, /j_EventID ILIKE '4688'/);
    assert.match(r.where, /j_Image ILIKE '%\\\\\\\\whoami.exe'/);
    assert.match(r.where, /j_NewProcessName ILIKE/); // thor rename for 4688
    assert.ok(r.aliases.has('j_Image') && r.aliases.has('x_EventID'));
  });

  test('untranslatable parts widen: TRUE where they count, FALSE under a not (never narrower than the rule)', () => {
    const pos = ruleToSql({ sel: { 'CommandLine|windash': '-enc' }, condition: 'sel' }, PC, mapping);
    assert.ok(pos.approximations.some((n) => n.includes('windash')));
    assert.doesNotMatch(pos.where, /CommandLine/);
    const neg = ruleToSql({ sel: { Image: 'a' }, f: { 'CommandLine|windash': '-enc' }, condition: 'sel and not f' }, PC, mapping);
    assert.doesNotMatch(neg.where, /NOT/); // not(FALSE) = TRUE, dropped
    const kw = ruleToSql({ keywords: ['mimikatz'], condition: 'keywords' }, { product: 'linux' }, mapping);
    assert.ok(kw.approximations.some((n) => n.startsWith('keyword search')));
    assert.match(kw.where, /positionCaseInsensitive\(sigma_text, 'mimikatz'\) > 0/, 'a keyword narrows by its text');
    assert.match(kw.where, /sigma_audit OR/, 'auditd rows (decoded, joined) are never narrowed by text');
    assert.match([kw.where, ...kw.aliases.values()].join('\n'), /NOT sigma_win/, 'a Linux rule never sees Windows map bodies');
  });

  test('under a not, matches are exact (no case widening of regexes), elsewhere regexes ignore case', () => {
    const r = ruleToSql({ sel: { 'CommandLine|re': 'A.B' }, f: { 'Image|re': 'X' }, condition: 'sel and not f' }, PC, mapping);
    assert.match(r.where, /match\(j_CommandLine, '\(\?i\)A\.B'\)/);
    assert.match(r.where, /match\(j_Image, 'X'\)/);
    const la = ruleToSql({ sel: { 'CommandLine|re': '(?<!x)y' }, condition: 'sel' }, PC, mapping);
    assert.ok(la.approximations.some((n) => n.includes('RE2')));
  });

  test('cidr → isIPAddressInRange, guarded against values that are not addresses', () => {
    const r = ruleToSql({ sel: { 'DestinationIp|cidr': '10.0.0.0/8' }, condition: 'sel' }, { product: 'windows', category: 'network_connection' }, mapping);
    assert.ok(r.where.includes("(isIPv4String(j_DestinationIp) OR isIPv6String(j_DestinationIp)) AND isIPAddressInRange(if((isIPv4String(j_DestinationIp) OR isIPv6String(j_DestinationIp)), j_DestinationIp, '::'), '10.0.0.0/8')"), r.where);
  });

  test('translation labels; an unfiltered rule is counted apart and does not widen the others', () => {
    const exact = convertRule('f.yml', { id: 'a', title: 'A', logsource: PC, detection: { sel: { Image: 'x' }, condition: 'sel' } }, mapping);
    assert.equal(exact.translation, 'exact');
    const agg = convertRule('f.yml', { id: 'b', title: 'B', logsource: PC, detection: { sel: { Image: 'x' }, condition: 'sel | count() > 5' } }, mapping);
    assert.equal(agg.translation, 'unfiltered');
    const kw = convertRule('f.yml', { id: 'c', title: 'C', logsource: { product: 'linux' }, detection: { k: ['evil'], condition: 'k' } }, mapping);
    assert.equal(kw.translation, 'prefiltered');
    const f = huntFilter([exact, agg, kw]);
    assert.deepEqual(f.counts, { exact: 1, prefiltered: 1, unfiltered: 1 });
    assert.deepEqual(f.unfiltered.map((r) => r.id), ['b']);
    assert.notEqual(f.hit, '1');
    assert.match(f.with, /AS sigma_body/);
  });

  test('keyword pieces: cut where stored text may differ from the mapped value, wildcards, short pieces dropped', () => {
    assert.deepEqual(keywordPieces('/dev/tcp/'), ['dev', 'tcp']);
    assert.deepEqual(keywordPieces('*mimikatz*'), ['mimikatz']);
    assert.deepEqual(keywordPieces('a="b c"'), ['b c']);
    assert.deepEqual(keywordPieces('é'), []);
  });

  test('both SigNoz body layouts: body text, else body_v2 (and body_promoted) serialized', () => {
    const f = huntFilter([convertRule('f.yml', { id: 'a', title: 'A', logsource: PC, detection: { sel: { Image: 'x' }, condition: 'sel' } }, mapping)]);
    assert.match(f.with, /if\(body != '', body, .*toString\(body_v2\)/);
    const plain = huntFilter([], { bodyV2: false, bodyPromoted: false });
    assert.match(plain.with, /^WITH body AS sigma_body/);
  });
});
