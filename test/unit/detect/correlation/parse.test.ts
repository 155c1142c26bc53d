/** Correlation documents: the spec's examples, every option, refusals, and reference resolution. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorrelation, parseRuleExpression, resolveCorrelations } from '../../../../src/detect/correlation/parse.ts';
import { RuleError } from '../../../../src/detect/rules/compile.ts';
import type { CorrelationRule } from '../../../../src/detect/correlation/types.ts';
import type { RuleProblem } from '../../../../src/detect/types.ts';
import { BASE, corr, docs, load, SPEC_FULL_EXAMPLE } from './helpers.ts';

/** The RuleError a single correlation document raises. */
function parseErr(yaml: string): RuleError {
  const problems: RuleProblem[] = [];
  const [d] = docs(yaml, problems);
  assert.ok(d, `no document: ${JSON.stringify(problems)}`);
  try {
    parseCorrelation(d, problems);
  } catch (e) {
    assert.ok(e instanceof RuleError, String(e));
    return e;
  }
  assert.fail('the correlation parsed');
}

const body = (b: string, top = 'title: T\nid: c1\n') =>
  `${top}correlation:\n${b
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;

const baseRule = (id: string, name: string) => `title: ${name}\nid: ${id}\nname: ${name}\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection\n`;

void describe('the specification examples', () => {
  void test('event_count: many failed logins per ComputerName in 1h (gte 100)', () => {
    const l = load(
      `title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
    timespan: 1h
    condition:
        gte: 100
---
${baseRule('5638f7c0-ac70-491d-8465-2a65075e0d86', 'failed_logon')}`,
    );
    assert.deepEqual(l.problems, []);
    const [r] = l.rules;
    assert.equal(r!.type, 'event_count');
    assert.equal(r!.info.id, '0e95725d-7320-415d-80f7-004da920fc11');
    assert.equal(r!.info.title, 'Many failed logins');
    assert.deepEqual(r!.info.logsource, { product: '', category: '', service: '' });
    assert.deepEqual(r!.rules, ['5638f7c0-ac70-491d-8465-2a65075e0d86']);
    assert.deepEqual(r!.groupBy, ['ComputerName']);
    assert.equal(r!.timespanMs, 3_600_000);
    assert.deepEqual(r!.condition, { gte: 100 });
    assert.deepEqual(r!.valueFields, []);
    assert.equal(r!.generate, false);
    assert.equal(r!.name, '');
    assert.equal(r!.line, 1);
  });

  void test('value_count: distinct User per ComputerName and WorkstationName in 1d (gte 100)', () => {
    const l = load(
      `title: Failed login
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
        - WorkstationName
    timespan: 1d
    condition:
        field: User
        gte: 100
---
${baseRule('5638f7c0-ac70-491d-8465-2a65075e0d86', 'failed_logon')}`,
    );
    assert.deepEqual(l.problems, []);
    const r = l.rules[0]!;
    assert.equal(r.type, 'value_count');
    assert.deepEqual(r.groupBy, ['ComputerName', 'WorkstationName']);
    assert.equal(r.timespanMs, 86_400_000);
    assert.deepEqual(r.condition, { gte: 100 });
    assert.deepEqual(r.valueFields, ['User']);
  });

  void test('temporal: three recon rules by ComputerName and User in 5m (default: all rules)', () => {
    const l = load(
      `title: Recon
id: recon-corr
correlation:
    type: temporal
    rules:
        - recon_cmd_a
        - recon_cmd_b
        - recon_cmd_c
    group-by:
        - ComputerName
        - User
    timespan: 5m
---
${baseRule('id-a', 'recon_cmd_a')}---
${baseRule('id-b', 'recon_cmd_b')}---
${baseRule('id-c', 'recon_cmd_c')}`,
    );
    assert.deepEqual(l.problems, []);
    const r = l.rules[0]!;
    assert.deepEqual(r.rules, ['id-a', 'id-b', 'id-c']);
    assert.deepEqual(r.condition, { gte: 3 });
    assert.equal(r.timespanMs, 300_000);
  });

  void test('temporal_ordered: many failed logins, then a successful login, by User in 1h', () => {
    const l = load(
      `title: Followed by success
id: ordered-corr
correlation:
    type: temporal_ordered
    rules:
        - many_failed_logins
        - successful_login
    group-by:
        - User
    timespan: 1h
---
title: many failed
id: mfl
name: many_failed_logins
correlation:
    type: event_count
    rules: failed_login
    group-by: ComputerName
    timespan: 1h
    condition:
        gte: 10
---
${baseRule('fl', 'failed_login')}---
${baseRule('sl', 'successful_login')}`,
    );
    assert.deepEqual(l.problems, []);
    assert.deepEqual(
      l.rules.map((r) => r.info.id),
      ['mfl', 'ordered-corr'],
      'inner before outer',
    );
    assert.deepEqual(l.rules[1]!.rules, ['mfl', 'sl']);
    assert.deepEqual(l.rules[1]!.condition, { gte: 2 });
    assert.deepEqual(l.rules[0]!.groupBy, ['ComputerName'], 'a string group-by');
    assert.deepEqual(l.rules[0]!.rules, ['fl'], 'a string rules');
  });

  void test('field name aliases: internal_ip / remote_ip across internal_error and new_network_connection', () => {
    // The spec's base rules carry only a name; ids are added (a correlation needs rule ids).
    const l = load(`name: internal_error
title: internal error
id: ie
logsource:
    category: webserver
detection:
    selection:
        http.response.status_code: 500
    condition: selection
---
name: new_network_connection
title: new connection
id: nnc
logsource:
    category: network
detection:
    selection:
        event.category: network
        event.type: connection
        event.outcome: success
    condition: selection
---
title: —
id: —
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
        - remote_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
`);
    assert.deepEqual(l.problems, []);
    const r = l.rules[0]!;
    assert.equal(r.info.id, '—');
    assert.deepEqual(r.rules, ['ie', 'nnc']);
    assert.deepEqual(r.aliases, { internal_ip: { ie: 'destination.ip', nnc: 'source.ip' }, remote_ip: { ie: 'source.ip', nnc: 'destination.ip' } });
    assert.equal(r.timespanMs, 10_000);
  });

  void test('the complete example: multiple failed logins followed by a successful login (chained, by name)', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    assert.deepEqual(l.problems, []);
    assert.deepEqual(
      l.rules.map((r) => [r.info.id, r.type, r.rules]),
      [
        ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41', 'event_count', ['53ba33fd-3a50-4468-a5ef-c583635cfa92']],
        ['b180ead8-d58f-40b2-ae54-c8940995b9b6', 'temporal_ordered', ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41', '4d0a2c83-c62c-4ed4-b475-c7e23a9269b8']],
      ],
    );
    const outer = l.rules[1]!;
    assert.equal(outer.info.level, 'high');
    assert.equal(outer.info.status, 'experimental');
    assert.equal(outer.info.author, 'Florian Roth (Nextron Systems)');
    assert.deepEqual(outer.info.falsepositives, ['Unlikely']);
    assert.deepEqual(outer.info.references, ['https://reference.com']);
    assert.equal(outer.timespanMs, 600_000);
    assert.equal(l.rules[0]!.name, 'multiple_failed_login');
    assert.equal(l.rules[0]!.info.level, 'medium', 'no level: medium');
  });

  void test('rules referenced by id and by name in one list', () => {
    const l = load(
      `title: login brute force
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
  type: event_count
  rules:
    - 5638f7c0-ac70-491d-8465-2a65075e0d86 # ID of the low firewall rule for action: block
    - firewall_block  # The internal tools have a lookup table to the correct rule id by name
  timespan: 5m
  condition:
    gte: 10
`,
      [
        { id: '5638f7c0-ac70-491d-8465-2a65075e0d86', name: '' },
        { id: 'fb-id', name: 'firewall_block' },
      ],
    );
    assert.deepEqual(l.problems, []);
    assert.deepEqual(l.rules[0]!.rules, ['5638f7c0-ac70-491d-8465-2a65075e0d86', 'fb-id']);
    assert.deepEqual(l.rules[0]!.groupBy, [], 'no group-by: one group');
  });

  void test('range condition "101 to 200": gt 100 and lte 200', () => {
    const r = corr('type: event_count\nrules: a\ntimespan: 1h\ncondition:\n  gt: 100\n  lte: 200');
    assert.deepEqual(r.condition, { gt: 100, lte: 200 });
  });
});


void describe('options', () => {
  void test('timespan units: s m h d w M y, and the legacy timeframe', () => {
    const span = (t: string, key = 'timespan') => corr(`type: event_count\nrules: a\n${key}: ${t}\ncondition:\n  gte: 1`).timespanMs;
    assert.equal(span('30s'), 30_000);
    assert.equal(span('5m'), 300_000);
    assert.equal(span('2h'), 7_200_000);
    assert.equal(span('1d'), 86_400_000);
    assert.equal(span('1w'), 604_800_000);
    assert.equal(span('1M'), 2_629_746_000);
    assert.equal(span('1y'), 31_556_952_000);
    assert.equal(span('90m', 'timeframe'), 5_400_000);
  });

  void test('timespan refusals: zero, no unit, unknown unit', () => {
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 0s\ncondition:\n  gte: 1')).message, /greater than zero/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 10\ncondition:\n  gte: 1')).message, /timespan/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 5x\ncondition:\n  gte: 1')).message, /timespan/);
  });

  void test('every comparison and the ranges', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte', 'eq', 'neq']) {
      assert.deepEqual(corr(`type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  ${op}: 7`).condition, { [op]: 7 });
    }
    assert.deepEqual(corr('type: value_sum\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  gte: 1.5\n  lt: 2.5').condition, { gte: 1.5, lt: 2.5 });
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gt: 1\n  gte: 2')).message, /one of gt\/gte and one of lt\/lte/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  eq: 1\n  lt: 2')).message, /one of gt\/gte and one of lt\/lte/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gt: 5\n  lt: 5')).message, /is empty/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gt: 1\n  lt: 5\n  neq: 3')).message, /one comparison \(or two for a range\)/);
  });

  void test('refusals from validateCorrelation are rethrown with their line', () => {
    const e = parseErr(body('type: event_sum\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1'));
    assert.match(e.message, /correlation type 'event_sum' is unknown/);
    assert.equal(e.line, 3);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m')).message, /needs a 'condition'/);
    assert.match(parseErr(body('type: value_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1')).message, /needs 'condition.field'/);
    assert.match(parseErr(body('type: event_count\ntimespan: 1m\ncondition:\n  gte: 1')).message, /has no 'rules'/);
    assert.match(parseErr(body("type: event_count\nrules: a\ntimespan: 1m\ncondition: 'a and b'")).message, /only allowed for temporal/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: many')).message, /must be a number/);
  });

  void test('condition.field: a string, or for value_count a list (distinct tuples)', () => {
    assert.deepEqual(corr('type: value_count\nrules: a\ntimespan: 1m\ncondition:\n  field: [User, Domain]\n  gte: 3').valueFields, ['User', 'Domain']);
    assert.deepEqual(corr('type: value_sum\nrules: a\ntimespan: 1m\ncondition:\n  field: Bytes\n  gte: 3').valueFields, ['Bytes']);
    assert.match(parseErr(body('type: value_sum\nrules: a\ntimespan: 1m\ncondition:\n  field: [A, B]\n  gte: 3')).message, /aggregates one field/);
    assert.match(parseErr(body('type: value_count\nrules: a\ntimespan: 1m\ncondition:\n  field: {x: 1}\n  gte: 3')).message, /'field' must be a field name/);
    const problems: RuleProblem[] = [];
    const r = parseCorrelation(docs(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  field: User\n  gte: 3'))[0]!, problems);
    assert.deepEqual(r.valueFields, []);
    assert.match(problems[0]!.reason, /'field' is ignored for type 'event_count'/);
  });

  void test('percentile: default 50, 0..100, median is 50', () => {
    assert.equal(corr('type: value_percentile\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  gte: 3').percentile, 50);
    assert.equal(corr('type: value_percentile\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  percentile: 95\n  gte: 3').percentile, 95);
    assert.equal(corr('type: value_median\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  gte: 3').percentile, 50);
    assert.equal(corr('type: value_avg\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  gte: 3').percentile, undefined);
    assert.match(parseErr(body('type: value_percentile\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  percentile: 101\n  gte: 3')).message, /from 0 to 100/);
  });

  void test('generate: default false; in the correlation section or at the top level; must be a boolean', () => {
    assert.equal(corr('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1').generate, false);
    assert.equal(corr('type: event_count\nrules: a\ngenerate: true\ntimespan: 1m\ncondition:\n  gte: 1').generate, true);
    assert.equal(corr('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1', 'generate: true\n').generate, true);
    assert.match(parseErr(body('type: event_count\nrules: a\ngenerate: yes please\ntimespan: 1m\ncondition:\n  gte: 1')).message, /'generate' must be true or false/);
  });

  void test('group-by: a string or a list; aliases', () => {
    assert.deepEqual(corr('type: event_count\nrules: a\ngroup-by: User\ntimespan: 1m\ncondition:\n  gte: 1').groupBy, ['User']);
    assert.deepEqual(corr('type: event_count\nrules: a\ngroup-by: [User, Host]\ntimespan: 1m\ncondition:\n  gte: 1').groupBy, ['User', 'Host']);
    const r = corr('type: temporal\nrules: [rule_a, b]\ngroup-by: [ip]\ntimespan: 1m\naliases:\n  ip:\n    rule_a: src\n    b: dst');
    assert.deepEqual(r.aliases, { ip: { a: 'src', b: 'dst' } }, 'alias keys resolved to ids');
    assert.match(parseErr(body('type: event_count\nrules: a\ngroup-by: [User, User]\ntimespan: 1m\ncondition:\n  gte: 1')).message, /names a field twice/);
    assert.match(parseErr(body('type: temporal\nrules: a\ntimespan: 1m\naliases: [x]')).message, /'aliases' must be a map/);
    assert.match(parseErr(body('type: temporal\nrules: a\ntimespan: 1m\naliases:\n  ip: src')).message, /alias 'ip' must be a map/);
  });

  void test('temporal defaults: gte = distinct rules; temporal_ordered: gte = listed rules', () => {
    assert.deepEqual(corr('type: temporal\nrules: [a, b, a]\ntimespan: 1m').condition, { gte: 2 });
    assert.deepEqual(corr('type: temporal_ordered\nrules: [a, b, a]\ntimespan: 1m').condition, { gte: 3 });
    assert.deepEqual(corr('type: temporal\nrules: [a, b, c]\ntimespan: 1m\ncondition:\n  gte: 2').condition, { gte: 2 });
  });

  void test('metadata: level (unknown → medium with a warning), tags; no title refused; no id warned', () => {
    const problems: RuleProblem[] = [];
    const r = parseCorrelation(docs(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1', 'title: T\nid: x\nlevel: severe\ntags: [attack.t1110]\nname: my_corr\n'))[0]!, problems);
    assert.equal(r.info.level, 'medium');
    assert.deepEqual(r.info.tags, ['attack.t1110']);
    assert.equal(r.name, 'my_corr');
    assert.match(problems[0]!.reason, /unknown level 'severe'/);
    assert.match(parseErr(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1', 'id: x\n')).message, /no 'title'/);
    const p2: RuleProblem[] = [];
    parseCorrelation(docs(body('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 1', 'title: T\n'))[0]!, p2);
    assert.match(p2[0]!.reason, /has no 'id'/);
    assert.equal(p2[0]!.severity, 'warning');
  });
});

void describe('temporal string conditions', () => {
  const show = (e: ReturnType<typeof parseRuleExpression>): string =>
    e.op === 'ref' ? e.rule : e.op === 'not' ? `NOT(${show(e.arg)})` : `${e.op.toUpperCase()}(${e.args.map(show).join(',')})`;

  void test('grammar: not > and > or, parentheses, ids with dashes', () => {
    assert.equal(show(parseRuleExpression('a or b and c')), 'OR(a,AND(b,c))');
    assert.equal(show(parseRuleExpression('not a and b')), 'AND(NOT(a),b)');
    assert.equal(show(parseRuleExpression('(a or b) and not (c or d)')), 'AND(OR(a,b),NOT(OR(c,d)))');
    assert.equal(show(parseRuleExpression('a and b and c')), 'AND(a,b,c)');
    assert.equal(show(parseRuleExpression('5638f7c0-ac70-491d-8465-2a65075e0d86 or x.y')), 'OR(5638f7c0-ac70-491d-8465-2a65075e0d86,x.y)');
  });

  void test('refusals: upper-case operators, x of, pipes, wildcards, dangling operators, parentheses', () => {
    assert.throws(() => parseRuleExpression('a AND b'), /lower-case/);
    assert.throws(() => parseRuleExpression('1 of rule_*'), /not allowed|not a rule name/);
    assert.throws(() => parseRuleExpression('a | count() > 5'), /not a rule name/);
    assert.throws(() => parseRuleExpression('rule_*'), /not a rule name/);
    assert.throws(() => parseRuleExpression('a and'), /unexpected end/);
    assert.throws(() => parseRuleExpression('(a or b'), /missing '\)'/);
    assert.throws(() => parseRuleExpression('a or b)'), /unexpected '\)'/);
    assert.throws(() => parseRuleExpression('a b'), /unexpected 'b'/);
    assert.throws(() => parseRuleExpression('  '), /empty/);
  });

  void test('rules taken from the expression when absent; both must agree when present', () => {
    const r = corr("type: temporal\ntimespan: 1m\ncondition: 'rule_a and (b or not rule_c)'");
    assert.deepEqual(r.rules, ['a', 'b', 'c']);
    assert.deepEqual(r.expression, { op: 'and', args: [{ op: 'ref', rule: 'a' }, { op: 'or', args: [{ op: 'ref', rule: 'b' }, { op: 'not', arg: { op: 'ref', rule: 'c' } }] }] });
    assert.deepEqual(r.condition, {});
    const mismatch = (yaml: string) => {
      const l = load(body(yaml), BASE);
      assert.equal(l.rules.length, 0);
      assert.equal(l.problems.length, 1);
      return l.problems[0]!.reason;
    };
    assert.match(mismatch("type: temporal\nrules: [a]\ntimespan: 1m\ncondition: 'a and b'"), /not in 'rules': b/);
    assert.match(mismatch("type: temporal\nrules: [a, b, c]\ntimespan: 1m\ncondition: 'a and b'"), /not used in the correlation condition: c/);
    assert.deepEqual(corr("type: temporal\nrules: [a, rule_b]\ntimespan: 1m\ncondition: 'rule_a and b'").rules, ['a', 'b'], 'names and ids mixed: compared after resolving');
    assert.match(parseErr(body("type: temporal_ordered\ntimespan: 1m\ncondition: 'a and 1 of b'")).message, /correlation condition 'a and 1 of b'/);
  });
});

void describe('resolveCorrelations', () => {
  const parse = (yaml: string): CorrelationRule[] => docs(yaml).map((d) => parseCorrelation(d, []));
  const c = (id: string, rules: string, extra = '') => `title: ${id}\nid: ${id}\n${extra}correlation:\n  type: event_count\n  rules: ${rules}\n  timespan: 1m\n  condition:\n    gte: 1\n`;

  void test('an unknown reference: one error with file, line and the name; the correlation is dropped', () => {
    const problems: RuleProblem[] = [];
    const out = resolveCorrelations(parse(`${c('ok', '[a]')}---\n${c('bad', '[a, nope]')}`), BASE, problems);
    assert.deepEqual(
      out.map((r) => r.info.id),
      ['ok'],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.severity, 'error');
    assert.equal(problems[0]!.line, 10);
    assert.equal(problems[0]!.ruleId, 'bad');
    assert.match(problems[0]!.file, /mr_test\.yml$/);
    assert.match(problems[0]!.reason, /'nope'/);
  });

  void test('by id first, then by name; ambiguous names and id-less targets are refused', () => {
    const problems: RuleProblem[] = [];
    const base = [
      { id: 'x1', name: 'dup' },
      { id: 'x2', name: 'dup' },
      { id: '', name: 'noid' },
      { id: 'rule_b', name: 'named_like_an_id' },
    ];
    const out = resolveCorrelations(parse(`${c('c1', '[rule_b]')}---\n${c('c2', '[dup]')}---\n${c('c3', '[noid]')}`), base, problems);
    assert.deepEqual(
      out.map((r) => [r.info.id, r.rules]),
      [['c1', ['rule_b']]],
    );
    assert.match(problems[0]!.reason, /'dup' is ambiguous/);
    assert.match(problems[1]!.reason, /named 'noid', which has no 'id'/);
  });

  void test('chains are kept in dependency order; cycles and self-references are refused; users of refused ones too', () => {
    const problems: RuleProblem[] = [];
    const out = resolveCorrelations(
      parse([c('outer', '[inner, a]'), c('inner', '[rule_a]'), c('x', '[y]'), c('y', '[x]'), c('self', '[self]'), c('user', '[x]'), c('deep', '[outer]')].join('---\n')),
      BASE,
      problems,
    );
    assert.deepEqual(
      out.map((r) => r.info.id),
      ['inner', 'outer', 'deep'],
    );
    assert.deepEqual(out[1]!.rules, ['inner', 'a']);
    const reasons = problems.map((p) => `${p.ruleId}: ${p.reason}`);
    assert.equal(problems.length, 4, reasons.join('\n'));
    assert.ok(problems.every((p) => p.severity === 'error'));
    assert.ok(reasons.some((r) => /^self: .*references itself/.test(r)));
    assert.ok(reasons.some((r) => /^x: .*cycle/.test(r)));
    assert.ok(reasons.some((r) => /^y: .*cycle/.test(r)));
    assert.ok(reasons.some((r) => /^user: .*'x', which was refused/.test(r)));
  });

  void test('a correlation referenced by name; a duplicate id is refused', () => {
    const problems: RuleProblem[] = [];
    const out = resolveCorrelations(parse(`${c('outer', '[inner_name]')}---\n${c('inner', '[a]', 'name: inner_name\n')}---\n${c('a', '[b]')}`), BASE, problems);
    assert.deepEqual(
      out.map((r) => [r.info.id, r.rules]),
      [
        ['inner', ['a']],
        ['outer', ['inner']],
      ],
    );
    assert.match(problems[0]!.reason, /id 'a' is already used by a rule/);
  });

  void test('alias keys and expression names resolve to ids; an alias for an unused rule is warned about', () => {
    const problems: RuleProblem[] = [];
    const yaml = `title: t\nid: t1\ncorrelation:\n  type: temporal\n  timespan: 1m\n  group-by: ip\n  condition: rule_a or rule_b\n  aliases:\n    ip:\n      rule_a: src\n      rule_b: dst\n      rule_c: x\n`;
    const out = resolveCorrelations(parse(yaml), BASE, problems);
    assert.deepEqual(out[0]!.aliases, { ip: { a: 'src', b: 'dst', c: 'x' } });
    assert.deepEqual(out[0]!.expression, { op: 'or', args: [{ op: 'ref', rule: 'a' }, { op: 'ref', rule: 'b' }] });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.severity, 'warning');
    assert.match(problems[0]!.reason, /alias 'ip' maps rule 'rule_c'/);
  });
});
