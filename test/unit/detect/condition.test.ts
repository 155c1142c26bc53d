/** Conditions: grammar and precedence (spec §Condition, pySigma conditions.py), `x of`, lists, refusals. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition, resolveCondition, type ConditionAst } from '../../../src/detect/rules/condition.ts';
import { compile, rejection } from './helpers.ts';

/** Compact rendering of a parsed condition. */
function show(a: ConditionAst): string {
  switch (a.k) {
    case 'id':
      return a.name;
    case 'not':
      return `NOT(${show(a.arg)})`;
    case 'of':
      return `${a.all ? 'ALL' : 'ANY'}(${a.pattern})`;
    default:
      return `${a.k.toUpperCase()}(${a.args.map(show).join(',')})`;
  }
}

void describe('condition grammar', () => {
  void test('precedence: or < and < not < x of < parentheses', () => {
    assert.equal(show(parseCondition('a or b and c')), 'OR(a,AND(b,c))');
    assert.equal(show(parseCondition('not a or b')), 'OR(NOT(a),b)');
    assert.equal(show(parseCondition('not a and b')), 'AND(NOT(a),b)');
    assert.equal(show(parseCondition('(a or b) and not (c or d)')), 'AND(OR(a,b),NOT(OR(c,d)))');
    assert.equal(show(parseCondition('1 of sel* and not 1 of filter*')), 'AND(ANY(sel*),NOT(ANY(filter*)))');
    assert.equal(show(parseCondition('all of sel_* or any of them')), 'OR(ALL(sel_*),ANY(them))');
    assert.equal(show(parseCondition('not not a')), 'NOT(NOT(a))');
  });

  void test('errors: upper-case operators, pipes, dangling operators, unbalanced parentheses', () => {
    assert.throws(() => parseCondition('sel AND filter'), /lower-case \('and', not 'AND'\)/);
    assert.throws(() => parseCondition('selection | count() by host > 5'), /deprecated aggregation, rewrite as a correlation rule/);
    assert.throws(() => parseCondition('sel and'), /unexpected end/);
    assert.throws(() => parseCondition('(sel'), /missing '\)'/);
    assert.throws(() => parseCondition('sel)'), /unexpected '\)'/);
    assert.throws(() => parseCondition('1 of'), /needs an identifier pattern/);
  });

  void test("them skips '_' identifiers unless the pattern starts with '_'", () => {
    const ids = ['sel1', 'sel2', '_private'];
    assert.deepEqual(resolveCondition(parseCondition('1 of them'), ids), { k: 'or', args: [{ k: 'id', name: 'sel1' }, { k: 'id', name: 'sel2' }] });
    assert.deepEqual(resolveCondition(parseCondition('1 of *'), ids), { k: 'or', args: [{ k: 'id', name: 'sel1' }, { k: 'id', name: 'sel2' }] });
    assert.deepEqual(resolveCondition(parseCondition('1 of _*'), ids), { k: 'id', name: '_private' });
  });

  void test('a pattern matching nothing drops out of its parent', () => {
    assert.deepEqual(resolveCondition(parseCondition('sel and not 1 of filter*'), ['sel']), { k: 'id', name: 'sel' });
    assert.equal(resolveCondition(parseCondition('1 of filter*'), ['sel']), null);
  });
});

void describe('conditions on events', () => {
  const rule = `sel_a:\n  A: a\nsel_b:\n  B: b\nfilter_main:\n  C: c\nfilter_optional:\n  D: d\n`;

  void test('1 of / any of / all of patterns', () => {
    const any = compile(`${rule}condition: 1 of sel_* and not 1 of filter_*`);
    assert.ok(any({ A: 'a' }));
    assert.ok(any({ B: 'b' }));
    assert.ok(!any({ A: 'a', D: 'd' }));
    const anyOf = compile(`${rule}condition: any of sel_*`);
    assert.ok(anyOf({ B: 'b' }));
    const all = compile(`${rule}condition: all of sel_* and not all of filter_*`);
    assert.ok(all({ A: 'a', B: 'b', C: 'c' }));
    assert.ok(!all({ A: 'a', B: 'b', C: 'c', D: 'd' }));
    assert.ok(!all({ A: 'a' }));
  });

  void test("1 of them / all of them ignore '_' identifiers", () => {
    const r = `sel:\n  A: a\n_helper:\n  B: b\n`;
    const anyThem = compile(`${r}condition: 1 of them`);
    assert.ok(anyThem({ A: 'a' }));
    assert.ok(!anyThem({ B: 'b' }));
    const allThem = compile(`${r}condition: all of them`);
    assert.ok(allThem({ A: 'a' }), '_helper is not required');
    const underscore = compile(`${r}condition: sel and 1 of _*`);
    assert.ok(underscore({ A: 'a', B: 'b' }));
    assert.ok(!underscore({ A: 'a' }));
  });

  void test('a condition list is OR-ed', () => {
    const m = compile(`a:\n  A: 1\nb:\n  B: 2\ncondition:\n  - a\n  - b`);
    assert.ok(m({ A: 1 }));
    assert.ok(m({ B: 2 }));
    assert.ok(!m({ C: 3 }));
  });

  void test("identifiers with '.' or '|' (SigmaHQ has both) load and are reached through patterns", () => {
    const m = compile(`selection:\n  A: a\nfilter_main_mdadm.conf:\n  B: b\nselect_tree_execution|endswith:\n  C: c\ncondition: selection and not 1 of filter_main_* and not 1 of select_tree_*`);
    assert.ok(m({ A: 'a' }));
    assert.ok(!m({ A: 'a', B: 'b' }));
    assert.ok(!m({ A: 'a', C: 'c' }));
  });

  void test('refusals carry the reason', () => {
    assert.match(rejection(`sel:\n  A: a\ncondition: sel and missing`), /references 'missing', which the detection does not define \(defined: sel\)/);
    assert.match(rejection(`sel:\n  A: a\ncondition: sel | count() > 5`), /deprecated aggregation, rewrite as a correlation rule/);
    assert.match(rejection(`sel:\n  A: a\ncondition: sel | near other`), /deprecated aggregation/);
    assert.match(rejection(`sel:\n  A: a\ncondition: sel OR sel`), /lower-case/);
    assert.match(rejection(`sel:\n  A: a\ncondition: 1 of filter*`), /selects no search identifier/);
    assert.match(rejection(`sel:\n  A: a`), /no condition/);
  });
});
