/** loadRuleset: loader problems (file + line), refusals, collections, filters, selection, routing, matches. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadRuleset } from '../../../src/detect/ruleset.ts';
import { MAX_RULE_FILE_BYTES } from '../../../src/detect/rules/load.ts';
import type { RuleProblem } from '../../../src/detect/types.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';
import { event, load, MAPPING, ruleYaml, tempDir } from './helpers.ts';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/rules');
const fixture = (dir: string) => loadRuleset({ paths: [path.join(FIXTURES, dir)], mapping: MAPPING });
const problemIn = (ps: readonly RuleProblem[], file: string, re: RegExp) => {
  const p = ps.find((x) => x.file.endsWith(file) && re.test(x.reason));
  assert.ok(p, `no problem matching ${re} in ${file}; got ${JSON.stringify(ps, null, 1)}`);
  return p;
};

void describe('loader problems', () => {
  const rs = fixture('invalid');

  void test('each bad document is refused with file, line and reason; the rest still loads', () => {
    assert.deepEqual(
      rs.rules.map((r) => r.title),
      ['Good First Document'],
    );
    assert.equal(rs.loaded, 2, 'the good rule and the valid correlation over it');
    assert.equal(rs.rejected, 8);
    assert.equal(rs.problems.filter((p) => p.severity === 'error').length, 8);
    for (const p of rs.problems) assert.ok(p.reason.length > 10 && p.line !== undefined, JSON.stringify(p));
  });

  void test('YAML errors', () => {
    const p = problemIn(rs.problems, 'yaml_error.yml', /invalid YAML/);
    assert.ok(p.line === 7 || p.line === 8, `line ${p.line}`);
  });

  void test('unknown modifier: the line of the item, the modifier and the known list', () => {
    const p = problemIn(rs.problems, 'unknown_modifier.yml', /unknown modifier 'contians'/);
    assert.equal(p.line, 8);
    assert.equal(p.ruleId, '2b1c8d6e-0003-4000-8000-000000000003');
    assert.match(p.reason, /known modifiers: all, base64, base64offset/);
  });

  void test('old pipe aggregation: rewrite as a correlation rule', () => {
    const p = problemIn(rs.problems, 'pipe_aggregation.yml', /^deprecated aggregation, rewrite as a correlation rule/);
    assert.equal(p.line, 10);
  });

  void test('multi-document files: per-document problems; a valid correlation loads resolved, a broken one is refused', () => {
    assert.equal(problemIn(rs.problems, 'multi_document.yml', /invalid regular expression/).line, 19);
    assert.deepEqual(rs.correlations.map((c) => [c.info.id, c.type, c.rules]), [['2b1c8d6e-0007-4000-8000-000000000007', 'event_count', ['2b1c8d6e-0005-4000-8000-000000000005']]]);
    const broken = problemIn(rs.problems, 'multi_document.yml', /'timespan' must be a number and a unit/);
    assert.equal(broken.ruleId, '2b1c8d6e-0008-4000-8000-000000000008');
  });

  void test('documents that are not rules, rules without a title, unconfigured placeholders', () => {
    problemIn(rs.problems, 'not_a_rule.yml', /no 'detection', 'filter' or 'correlation' section/);
    problemIn(rs.problems, 'missing_title.yml', /no 'title'/);
    const p = problemIn(rs.problems, 'unconfigured_placeholder.yml', /%dc_ip_addresses%/);
    assert.equal(p.line, 10);
    assert.match(p.reason, /rules\.placeholders\.dc_ip_addresses/);
  });

  void test('configuring the placeholder makes the rule load', () => {
    const ok = loadRuleset({ paths: [path.join(FIXTURES, 'invalid/unconfigured_placeholder.yml')], mapping: MAPPING, placeholders: { dc_ip_addresses: ['10.0.0.1'] } });
    assert.equal(ok.loaded, 1);
    const d = ok.detector;
    assert.equal(d.evaluate(event({ EventID: 4624, IpAddress: '10.9.9.9' })).length, 1);
    assert.equal(d.evaluate(event({ EventID: 4624, IpAddress: '10.0.0.1' })).length, 0);
  });

  void test('a missing path is a problem, not an exception', () => {
    const r = loadRuleset({ paths: ['/nonexistent/rules'], mapping: MAPPING });
    assert.equal(r.loaded, 0);
    assert.match(r.problems[0]!.reason, /does not exist/);
  });

  void test('bad rules never throw, whatever the document holds', () => {
    const weird = ['- a list', 'title: x\nlogsource: {product: test}\ndetection: 5', 'title: x\nlogsource: 5\ndetection: {s: {A: 1}, condition: s}', 'title: x\nlogsource: {product: test}\ndetection: {s: {A: {nested: map}}, condition: s}', 'title: x\nlogsource: {product: test}\ndetection: {s: [], condition: s}', 'title: x\nlogsource: {product: test}\ndetection: {s: null, condition: s}', 'title: x\nlogsource: {product: test}\ndetection: {s: {A: 1}, condition: [1, 2]}', 'title: x\nlogsource: {product: test}\ndetection: {s: {}, condition: s}'];
    const r = load(Object.fromEntries(weird.map((w, i) => [`w${i}.yml`, w])));
    assert.equal(r.loaded, 0);
    assert.equal(r.rejected, weird.length);
    assert.equal(r.problems.filter((p) => p.severity === 'error').length, weird.length);
  });
});

void describe('metadata', () => {
  void test('RuleInfo carries id, title, level, status, tags, description, references, falsepositives, author, logsource, file', () => {
    const r = fixture('valid').rules[0]!;
    assert.deepEqual(
      { ...r, file: path.basename(r.file) },
      {
        id: '2b1c8d6e-0001-4000-8000-000000000001',
        title: 'Whoami Execution',
        level: 'medium',
        status: 'test',
        tags: ['attack.discovery', 'attack.t1033'],
        description: 'Detects whoami.',
        references: ['https://example.org/whoami'],
        falsepositives: ['Admin scripts'],
        author: 'fixture',
        logsource: { product: 'windows', category: 'process_creation', service: '' },
        file: 'proc_creation_whoami.yml',
      },
    );
  });

  void test('level defaults to medium; an unknown level is a warning', () => {
    const r = load({ 'a.yml': ruleYaml(`s:\n  A: a\ncondition: s`).replace('level: high\n', ''), 'b.yml': ruleYaml(`s:\n  A: a\ncondition: s`, '', 'b').replace('level: high', 'level: severe') });
    assert.deepEqual(
      r.rules.map((x) => x.level),
      ['medium', 'medium'],
    );
    problemIn(r.problems, 'b.yml', /unknown level 'severe'/);
  });
});

void describe('rule collections (sigmac action: global)', () => {
  void test('global documents merge into each following rule', () => {
    const rs = fixture('collection');
    assert.equal(rs.rejected, 0);
    assert.deepEqual(
      rs.rules.map((r) => [r.title, r.level, r.id]),
      [
        ['Collection Rule', 'high', '2b1c8d6e-000c-4000-8000-00000000000c'],
        ['Collection Rule Two', 'high', '2b1c8d6e-000d-4000-8000-00000000000d'],
      ],
    );
    assert.deepEqual(
      rs.detector.evaluate(event({ A: 'two' })).map((m) => m.rule.title),
      ['Collection Rule Two'],
    );
  });
});

void describe('filters', () => {
  const security = (fields: Record<string, string | number>) => event({ Channel: 'Security', ...fields }, 'windows');

  void test('a filter applies to the rules it names: (rule condition) and (filter condition)', () => {
    const rs = fixture('filters');
    assert.equal(rs.filters, 1);
    const hit = (f: Record<string, string | number>) => rs.detector.evaluate(security(f)).map((m) => m.rule.title);
    assert.deepEqual(hit({ EventID: 4624, WorkstationName: 'PC1' }), ['Logon From Anywhere']);
    assert.deepEqual(hit({ EventID: 4624, WorkstationName: 'jump01' }), []);
    assert.deepEqual(hit({ EventID: 4625, WorkstationName: 'JUMP01' }), ['Other Security Rule'], 'not named by the filter');
  });

  void test('rules: any (or empty) applies to every rule of the logsource; identifiers never clash with the rule', () => {
    const filter = `title: Global filter\nid: f1\nlogsource:\n  product: test\nfilter:\n  rules: any\n  selection:\n    User: svc\n  condition: not selection\n`;
    // The rule has an identifier called `selection` too, and a `1 of them` that must not see the filter's.
    const rule = ruleYaml(`selection:\n  A: a\ncondition: 1 of them`);
    const rs = load({ 'r.yml': rule, 'f.yml': filter });
    assert.equal(rs.detector.evaluate(event({ A: 'a', User: 'bob' })).length, 1);
    assert.equal(rs.detector.evaluate(event({ A: 'a', User: 'SVC' })).length, 0);
    assert.equal(rs.detector.evaluate(event({ User: 'bob' })).length, 0);
  });

  void test('filters from filterPaths; a filter that applies to nothing is a warning', () => {
    const rules = tempDir();
    const filters = tempDir();
    try {
      fs.writeFileSync(path.join(rules, 'r.yml'), ruleYaml(`selection:\n  A: a\ncondition: selection`));
      fs.writeFileSync(path.join(filters, 'f.yml'), `title: Not b\nlogsource:\n  product: test\nfilter:\n  rules: []\n  s:\n    B: b\n  condition: not s\n`);
      fs.writeFileSync(path.join(filters, 'g.yml'), `title: Nothing\nlogsource:\n  product: other\nfilter:\n  s:\n    A: a\n  condition: not s\n`);
      const rs = loadRuleset({ paths: [rules], filterPaths: [filters], mapping: MAPPING });
      assert.deepEqual([rs.loaded, rs.filters], [1, 2]);
      problemIn(rs.problems, 'g.yml', /filter 'Nothing' applies to no loaded rule/);
      assert.equal(rs.detector.evaluate(event({ A: 'a' })).length, 1);
      assert.equal(rs.detector.evaluate(event({ A: 'a', B: 'b' })).length, 0);
    } finally {
      fs.rmSync(rules, { recursive: true, force: true });
      fs.rmSync(filters, { recursive: true, force: true });
    }
  });
});

void describe('selection', () => {
  const files = {
    'a.yml': ruleYaml(`s:\n  A: a\ncondition: s`, 'tags:\n  - attack.execution\n  - attack.t1059.001\n', 'id-a'),
    'b.yml': ruleYaml(`s:\n  A: a\ncondition: s`, 'tags:\n  - attack.persistence\n', 'id-b').replace('level: high', 'level: low').replace('status: test', 'status: experimental'),
    'c.yml': ruleYaml(`s:\n  A: a\ncondition: s`, '', 'id-c').replace('level: high', 'level: critical').replace('product: test', 'product: test\n  category: special'),
  };
  const ids = (select: Parameters<typeof loadRuleset>[0]['select']) => {
    const r = load(files, { select });
    assert.equal(r.loaded + r.skipped, 3);
    return r.rules.map((x) => x.id).sort();
  };

  void test('status, minLevel, tags (globs), excludeTags, logsources, disabledIds', () => {
    assert.deepEqual(ids(undefined), ['id-a', 'id-b', 'id-c']);
    assert.deepEqual(ids({ status: ['test'] }), ['id-a', 'id-c']);
    assert.deepEqual(ids({ minLevel: 'high' }), ['id-a', 'id-c']);
    assert.deepEqual(ids({ tags: ['attack.t1059*'] }), ['id-a']);
    assert.deepEqual(ids({ excludeTags: ['attack.persistence'] }), ['id-a', 'id-c']);
    assert.deepEqual(ids({ logsources: ['test/special/*'] }), ['id-c']);
    assert.deepEqual(ids({ logsources: ['test//'] }), ['id-a', 'id-b']);
    assert.deepEqual(ids({ logsources: ['test'] }), ['id-a', 'id-b', 'id-c']);
    assert.deepEqual(ids({ disabledIds: ['ID-B'] }), ['id-a', 'id-c']);
    assert.deepEqual(ids({ status: ['test'], minLevel: 'critical' }), ['id-c']);
  });

  void test('excluded rules count as skipped, in neither loaded nor rejected', () => {
    const r = load(files, { select: { minLevel: 'critical' } });
    assert.deepEqual([r.loaded, r.rejected, r.skipped], [1, 0, 2]);
  });
});

void describe('logsource routing and matches', () => {
  const rs = fixture('valid');
  const sysmon = (f: Record<string, string | number>) => event({ Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, ...f }, 'windows');

  void test('a rule sees only the events of its logsource', () => {
    assert.equal(rs.detector.evaluate(sysmon({ Image: 'C:\\Windows\\System32\\whoami.exe' })).length, 1);
    assert.equal(rs.detector.evaluate(sysmon({ EventID: 3, Image: 'C:\\Windows\\System32\\whoami.exe' })).length, 0);
    assert.equal(rs.detector.evaluate(event({ Image: 'C:\\Windows\\System32\\whoami.exe' })).length, 0);
  });

  void test('variant renames apply (Security 4688: Image → NewProcessName) and matched names the event fields', () => {
    const e = event({ Channel: 'Security', EventID: 4688, NewProcessName: 'C:\\Windows\\System32\\whoami.exe', ParentProcessName: 'C:\\x\\cmd.exe', Image: 'ignored' }, 'windows');
    const m = rs.detector.evaluate(e);
    assert.equal(m.length, 1);
    assert.deepEqual(m[0]!.matched, { NewProcessName: 'C:\\Windows\\System32\\whoami.exe', ParentProcessName: 'C:\\x\\cmd.exe' });
    assert.equal(rs.detector.evaluate({ ...e, fields: { ...e.fields, ParentProcessName: 'C:\\legit.exe' } }).length, 0, 'the filter sees the renamed field too');
  });

  void test('matched holds the referenced fields present in the event, as strings', () => {
    const m = rs.detector.evaluate(sysmon({ Image: 'C:\\whoami.exe', CommandLine: 'whoami /all' }));
    assert.deepEqual(m[0]!.matched, { Image: 'C:\\whoami.exe' });
    assert.equal(m[0]!.rule.id, '2b1c8d6e-0001-4000-8000-000000000001');
  });

  void test('a rule reachable through several variants is reported once per event', () => {
    const mapping: LogsourceMapping = { entries: [{ product: 'test', variants: [{ when: { '@source': ['test'] } }, { when: { Kind: ['x'] } }] }], fallback: MAPPING.fallback };
    const r = load({ 'r.yml': ruleYaml(`s:\n  A: a\ncondition: s`) }, { mapping });
    assert.equal(r.detector.evaluate(event({ A: 'a', Kind: 'X' })).length, 1);
    assert.equal(r.detector.evaluate(event({ A: 'a', Kind: 'X' }, 'other')).length, 1, 'through the Kind variant only');
  });

  void test('an unmapped logsource falls back to generic events, with a warning', () => {
    const r = load({ 'r.yml': ruleYaml(`s:\n  A: a\ncondition: s`).replace('product: test', 'product: nowhere\n  service: foo') });
    problemIn(r.problems, 'r.yml', /^logsource product=nowhere\/category=\/service=foo has no mapping; the rule only sees generic events$/);
    assert.equal(r.problems.find((p) => p.severity === 'warning')!.severity, 'warning');
    assert.equal(r.detector.evaluate(event({ A: 'a' }, 'generic')).length, 1);
    assert.equal(r.detector.evaluate(event({ A: 'a' }, 'test')).length, 0);
  });

  void test('keyword matches report the fields a keyword hit', () => {
    const r = load({ 'r.yml': ruleYaml(`k:\n  - mimikatz\ncondition: k`) });
    const m = r.detector.evaluate(event({ msg: 'ran Mimikatz', other: 'x', n: 5 }));
    assert.deepEqual(m[0]!.matched, { msg: 'ran Mimikatz' });
  });

  void test('evaluate never throws, whatever the event holds', () => {
    const r = load({ 'r.yml': ruleYaml(`s:\n  A|contains: a\n  B|cidr: 10.0.0.0/8\n  C|gt: 3\nk:\n  - x\ncondition: s or k`) });
    const odd: unknown[] = [{ A: { deep: [1, null, { x: true }] } }, { A: null, B: [null], C: [] }, { B: 12, C: 'NaN' }, { A: 'a'.repeat(100_000), B: '10.1.1.1', C: 4 }];
    for (const fields of odd) assert.doesNotThrow(() => r.detector.evaluate(event(fields as Record<string, never>)));
    assert.equal(r.detector.evaluate(event({ A: 'xa', B: '10.1.1.1', C: 4 })).length, 1);
    assert.doesNotThrow(() => r.detector.evaluate({ fields: null, meta: null } as never));
  });
});

void describe('rule file size', () => {
  void test('a rule file over the size limit is refused before it is parsed, naming the limit; the others load', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'good.yml'), ruleYaml('selection:\n  A: a\ncondition: selection'));
    const huge = path.join(dir, 'huge.yml');
    // A valid rule padded with comments past the limit: refused by size, not by content.
    fs.writeFileSync(huge, `${ruleYaml('selection:\n  A: b\ncondition: selection', '', '00000000-0000-4000-8000-000000000009')}${'# padding\n'.repeat(MAX_RULE_FILE_BYTES / 10 + 1)}`);
    const rs = loadRuleset({ paths: [dir], mapping: MAPPING });
    assert.equal(rs.loaded, 1);
    assert.equal(rs.rejected, 1);
    const p = rs.problems.find((x) => x.file === huge);
    assert.ok(p && p.severity === 'error' && /over the 4 MiB a rule file may have/.test(p.reason), JSON.stringify(p));
  });
});
