/** The correlation engine: every type and option over matching and non-matching streams, chains, lateness, bounds, state. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Correlator } from '../../../../src/detect/correlation/engine.ts';
import type { CorrelationInput, CorrelationOutput } from '../../../../src/detect/correlation/types.ts';
import { corr, correlator, digest, inp, load, OPTS, runAll, SPEC_FULL_EXAMPLE, windows } from './helpers.ts';

const H = { host: 'h1' };
const count = (cond: string, extra = '') => corr(`type: event_count\nrules: [a, b]\ngroup-by: host\ntimespan: 10s\ncondition:\n${cond}\n${extra}`);

void describe('event_count', () => {
  void test('fires at the first event that reaches the count; the window is [first event, that event]; events are consumed', () => {
    const c = correlator(count('  gte: 3'));
    const out = runAll(c, [inp('a', 0, H, 'f0'), inp('b', 1, H, 'f1'), inp('a', 2, H, 'f2'), inp('a', 3, H), inp('a', 4, H), inp('a', 5.5, H), inp('a', 30, H)]);
    assert.deepEqual(windows(out), [
      [0, 2, 3],
      [3, 5.5, 3],
    ]);
    assert.deepEqual(out[0]!.contributing, ['f0', 'f1', 'f2']);
    assert.equal(out[0]!.contributingCount, 3);
    assert.deepEqual(out[0]!.group, { host: 'h1' });
    assert.deepEqual(out[0]!.hosts, ['h1']);
    assert.equal(out[0]!.windowStartNs, '0');
    assert.equal(out[0]!.windowEndNs, '2000000000');
  });

  void test('does not fire when the events are spread wider than the timespan (inclusive bounds)', () => {
    assert.deepEqual(runAll(correlator(count('  gte: 3')), [inp('a', 0, H), inp('a', 10.001, H), inp('a', 20.002, H)]), []);
    assert.equal(runAll(correlator(count('  gte: 3')), [inp('a', 0, H), inp('a', 5, H), inp('a', 10, H)]).length, 1, 'exactly timespan apart: inside');
  });

  void test('groups are separate; an input without the group-by field is ignored and counted', () => {
    const c = correlator(count('  gte: 2'));
    const out = runAll(c, [inp('a', 0, { host: 'x' }), inp('a', 1, { host: 'y' }), inp('a', 2, {}), inp('a', 3, { host: '' }), inp('a', 4, { host: '' })]);
    assert.deepEqual(
      out.map((o) => o.group),
      [{ host: '' }],
    );
    assert.equal(c.stats.missingGroup, 1);
  });

  void test('an upper bound (lt) decides anchored windows [s, s + timespan] when time passes their end', () => {
    const c = correlator(count('  lt: 3'));
    const out = c.push([inp('a', 0, H), inp('a', 4, H), inp('a', 20, H), inp('a', 21, H), inp('a', 22, H)], 0);
    assert.deepEqual(windows(out), [[0, 10, 2]]);
    assert.deepEqual(windows(c.flush()), [], 'the second window holds 3 events');
  });

  void test('ranges: gt 1 and lte 3', () => {
    const c = correlator(count('  gt: 1\n  lte: 3'));
    const evs = [0, 1, 2, 3, 20, 40, 41, 60, 61, 62].map((t) => inp('a', t, H));
    assert.deepEqual(windows(runAll(c, evs)), [
      [40, 50, 2],
      [60, 70, 3],
    ]);
  });

  void test('eq and neq', () => {
    const evs = [0, 1, 20, 40, 41, 42].map((t) => inp('a', t, H));
    assert.deepEqual(windows(runAll(correlator(count('  eq: 2')), evs)), [[0, 10, 2]]);
    assert.deepEqual(windows(runAll(correlator(count('  neq: 2')), evs)), [
      [20, 30, 1],
      [40, 50, 3],
    ]);
  });

  void test('group-by several fields: the group is the tuple; output keyed by field', () => {
    const r = corr('type: event_count\nrules: a\ngroup-by: [User, Domain]\ntimespan: 1m\ncondition:\n  gte: 2');
    const out = runAll(correlator(r), [inp('a', 0, { User: 'u', Domain: 'd1' }), inp('a', 1, { User: 'u', Domain: 'd2' }), inp('a', 2, { User: 'u', Domain: 'd1' })]);
    assert.deepEqual(
      out.map((o) => o.group),
      [{ User: 'u', Domain: 'd1' }],
    );
  });

  void test('no group-by: one group over everything', () => {
    const r = corr('type: event_count\nrules: a\ntimespan: 1m\ncondition:\n  gte: 2');
    const out = runAll(correlator(r), [inp('a', 0, {}, undefined, 'x'), inp('a', 1, {}, undefined, 'y')]);
    assert.deepEqual(out[0]!.group, {});
    assert.deepEqual(out[0]!.hosts, ['x', 'y']);
  });

  void test('the fingerprint is sha256(rule id, sorted group, window bounds), 32 hex chars', () => {
    const r = corr('type: event_count\nrules: a\ngroup-by: [Z, A]\ntimespan: 1m\ncondition:\n  gte: 1');
    const [o] = runAll(correlator(r), [inp('a', 1, { Z: 'z', A: 'a' })]);
    const expect = createHash('sha256')
      .update(
        JSON.stringify([
          'corr-1',
          [
            ['A', 'a'],
            ['Z', 'z'],
          ],
          '1000000000',
          '1000000000',
        ]),
      )
      .digest('hex')
      .slice(0, 32);
    assert.equal(o!.fingerprint, expect);
  });
});

void describe('value_count', () => {
  void test('distinct values of the field in the window', () => {
    const r = corr('type: value_count\nrules: a\ngroup-by: host\ntimespan: 10s\ncondition:\n  field: User\n  gte: 3');
    const c = correlator(r);
    const out = runAll(c, [inp('a', 0, { host: 'h', User: 'x' }), inp('a', 1, { host: 'h', User: 'x' }), inp('a', 2, { host: 'h', User: 'y' }), inp('a', 3, { host: 'h' }), inp('a', 4, { host: 'h', User: 'z' })]);
    assert.deepEqual(windows(out), [[0, 4, 3]]);
    assert.equal(out[0]!.contributingCount, 4, 'the input without the field is not part of it');
    assert.equal(c.stats.missingValue, 1);
    assert.deepEqual(runAll(correlator(r), [inp('a', 0, { host: 'h', User: 'x' }), inp('a', 1, { host: 'h', User: 'y' }), inp('a', 11, { host: 'h', User: 'z' })]), [], 'x left the window');
  });

  void test('several fields: distinct tuples', () => {
    const r = corr('type: value_count\nrules: a\ntimespan: 10s\ncondition:\n  field: [User, Domain]\n  gte: 3');
    const evs = [inp('a', 0, { User: 'u', Domain: 'd' }), inp('a', 1, { User: 'u', Domain: 'e' }), inp('a', 2, { User: 'v', Domain: 'd' }), inp('a', 3, { User: 'u', Domain: 'd' })];
    assert.deepEqual(windows(runAll(correlator(r), evs)), [[0, 2, 3]]);
  });

  void test('an upper bound: few distinct values in a window', () => {
    const r = corr('type: value_count\nrules: a\ntimespan: 10s\ncondition:\n  field: User\n  lte: 1');
    const evs = [inp('a', 0, { User: 'x' }), inp('a', 5, { User: 'x' }), inp('a', 20, { User: 'x' }), inp('a', 21, { User: 'y' })];
    assert.deepEqual(windows(runAll(correlator(r), evs)), [[0, 10, 1]]);
  });
});

void describe('value_sum / value_avg / value_percentile / value_median', () => {
  void test('value_sum with a lower bound fires as soon as the sum is reached; non-numeric values are ignored and counted', () => {
    const r = corr('type: value_sum\nrules: a\ngroup-by: host\ntimespan: 1m\ncondition:\n  field: bytes\n  gte: 100');
    const c = correlator(r);
    const out = runAll(c, [inp('a', 0, { host: 'h', bytes: '50' }), inp('a', 1, { host: 'h', bytes: 'lots' }), inp('a', 2, { host: 'h', bytes: ' 60.5 ' }), inp('a', 3, { host: 'h', bytes: '1' })]);
    assert.deepEqual(windows(out), [[0, 2, 110.5]]);
    assert.equal(c.stats.nonNumeric, 1);
    assert.deepEqual(runAll(correlator(r), [inp('a', 0, { host: 'h', bytes: '60' }), inp('a', 61, { host: 'h', bytes: '60' })]), [], 'spread wider than the timespan');
  });

  void test('value_sum with an upper bound waits for the window end', () => {
    const r = corr('type: value_sum\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  lt: 10');
    assert.deepEqual(windows(runAll(correlator(r), [inp('a', 0, { n: '4' }), inp('a', 30, { n: '5' }), inp('a', 100, { n: '50' })])), [[0, 60, 9]]);
  });

  void test('value_avg: anchored windows', () => {
    const r = corr('type: value_avg\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  gt: 10');
    assert.deepEqual(windows(runAll(correlator(r), [inp('a', 0, { n: '5' }), inp('a', 30, { n: '20' }), inp('a', 100, { n: '1' }), inp('a', 101, { n: '2' })])), [[0, 60, 12.5]]);
  });

  void test('value_percentile (linear interpolation) and value_median', () => {
    const evs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((v, i) => inp('a', i, { n: String(v) }));
    const p90 = corr('type: value_percentile\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  percentile: 90\n  gte: 9');
    const [o] = runAll(correlator(p90), evs);
    assert.ok(Math.abs(o!.value - 9.1) < 1e-9, String(o!.value));
    const med = corr('type: value_median\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  eq: 5.5');
    assert.deepEqual(windows(runAll(correlator(med), evs)), [[0, 60, 5.5]]);
    const low = corr('type: value_median\nrules: a\ntimespan: 1m\ncondition:\n  field: n\n  gt: 6');
    assert.deepEqual(runAll(correlator(low), evs), []);
  });
});

void describe('temporal', () => {
  const t3 = corr('type: temporal\nrules: [a, b, c]\ngroup-by: User\ntimespan: 5m');
  const U = { User: 'u' };

  void test('every rule within the timespan, in any order', () => {
    const out = runAll(correlator(t3), [inp('c', 0, U), inp('a', 60, U), inp('a', 70, U), inp('b', 200, U)]);
    assert.deepEqual(windows(out), [[0, 200, 3]]);
    assert.equal(out[0]!.contributingCount, 4);
  });

  void test('not fired when a rule is missing, outside the timespan, or in another group', () => {
    assert.deepEqual(runAll(correlator(t3), [inp('a', 0, U), inp('b', 1, U), inp('a', 2, U)]), []);
    assert.deepEqual(runAll(correlator(t3), [inp('a', 0, U), inp('b', 1, U), inp('c', 301, U)]), []);
    assert.deepEqual(runAll(correlator(t3), [inp('a', 0, U), inp('b', 1, U), inp('c', 2, { User: 'v' })]), []);
  });

  void test('a count condition: gte 2 of 3 rules', () => {
    const r = corr('type: temporal\nrules: [a, b, c]\ntimespan: 5m\ncondition:\n  gte: 2');
    assert.deepEqual(windows(runAll(correlator(r), [inp('a', 0), inp('a', 1), inp('c', 2)])), [[0, 2, 2]]);
  });

  void test('a string condition: a and not b (b not seen in the window)', () => {
    const r = corr("type: temporal\ntimespan: 10s\ncondition: 'rule_a and (rule_c or not rule_b)'");
    assert.deepEqual(windows(runAll(correlator(r), [inp('b', 0), inp('a', 5)])), [], 'b seen 5 s before');
    assert.deepEqual(windows(runAll(correlator(r), [inp('b', 0), inp('a', 11)])), [[11, 11, 1]], 'b left the window');
    assert.deepEqual(windows(runAll(correlator(r), [inp('b', 0), inp('c', 3), inp('a', 5)])), [[0, 5, 3]]);
  });

  void test('aliases (the spec example): internal_ip / remote_ip across two rules', () => {
    const l = load(`title: internal error then connection
id: alias-corr
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
`, [
      { id: 'ie', name: 'internal_error' },
      { id: 'nnc', name: 'new_network_connection' },
    ]);
    const c = correlator(l.rules);
    assert.deepEqual(c.fieldsFor('ie'), ['destination.ip', 'source.ip']);
    assert.deepEqual(c.fieldsFor('nnc'), ['source.ip', 'destination.ip']);
    const out = runAll(c, [inp('ie', 0, { 'destination.ip': '10.0.0.1', 'source.ip': '1.2.3.4' }), inp('nnc', 3, { 'source.ip': '10.0.0.1', 'destination.ip': '1.2.3.4' })]);
    assert.deepEqual(
      out.map((o) => o.group),
      [{ internal_ip: '10.0.0.1', remote_ip: '1.2.3.4' }],
    );
    const none = runAll(correlator(l.rules), [inp('ie', 0, { 'destination.ip': '10.0.0.1', 'source.ip': '1.2.3.4' }), inp('nnc', 3, { 'source.ip': '10.0.0.2', 'destination.ip': '1.2.3.4' })]);
    assert.deepEqual(none, []);
  });
});

void describe('temporal_ordered', () => {
  const ab = corr('type: temporal_ordered\nrules: [a, b]\ngroup-by: User\ntimespan: 10s');
  const U = { User: 'u' };

  void test('a then b within the timespan fires; b then a does not', () => {
    assert.deepEqual(windows(runAll(correlator(ab), [inp('a', 0, U), inp('b', 4, U)])), [[0, 4, 2]]);
    assert.deepEqual(runAll(correlator(ab), [inp('b', 0, U), inp('a', 4, U)]), []);
    assert.deepEqual(runAll(correlator(ab), [inp('a', 0, U), inp('b', 11, U)]), []);
  });

  void test('the tightest window: the latest a before b', () => {
    const out = runAll(correlator(ab), [inp('a', 0, U, 'a0'), inp('a', 5, U, 'a5'), inp('b', 8, U, 'b8')]);
    assert.deepEqual(windows(out), [[5, 8, 2]]);
    assert.deepEqual(out[0]!.contributing, ['a5', 'b8']);
  });

  void test('equal times count as in order (ties by listed position)', () => {
    assert.deepEqual(windows(runAll(correlator(ab), [inp('b', 3, U), inp('a', 3, U)])), [[3, 3, 2]]);
  });

  void test('a rule listed twice needs two events: a, b, a', () => {
    const aba = corr('type: temporal_ordered\nrules: [a, b, a]\ntimespan: 10s');
    assert.deepEqual(runAll(correlator(aba), [inp('a', 0), inp('b', 1)]), []);
    assert.deepEqual(runAll(correlator(aba), [inp('b', 0), inp('a', 1), inp('a', 2)]), []);
    assert.deepEqual(windows(runAll(correlator(aba), [inp('a', 0), inp('a', 1), inp('b', 2), inp('a', 3)])), [[1, 3, 3]]);
  });

  void test('a count condition: the longest ordered prefix (gte 2 of a, b, c)', () => {
    const r = corr('type: temporal_ordered\nrules: [a, b, c]\ntimespan: 10s\ncondition:\n  gte: 2');
    assert.deepEqual(windows(runAll(correlator(r), [inp('b', 0), inp('c', 1), inp('a', 2), inp('b', 3)])), [[2, 3, 2]]);
  });

  void test('an upper bound: the chain length in anchored windows', () => {
    const r = corr('type: temporal_ordered\nrules: [a, b, c]\ntimespan: 10s\ncondition:\n  lt: 3');
    assert.deepEqual(windows(runAll(correlator(r), [inp('a', 0), inp('c', 1), inp('b', 2), inp('a', 20), inp('b', 21), inp('c', 22)])), [[0, 10, 2]]);
  });

  void test('a string condition over the ordered occurrences', () => {
    const r = corr("type: temporal_ordered\nrules: [a, b]\ntimespan: 10s\ncondition: 'rule_a and b'");
    assert.deepEqual(runAll(correlator(r), [inp('b', 0), inp('a', 1)]), []);
    assert.deepEqual(windows(runAll(correlator(r), [inp('b', 0), inp('a', 1), inp('b', 2)])), [[0, 2, 2]]);
  });
});

void describe('generate, referenced rules and fields', () => {
  void test('suppressedRules: base rules used only by correlations with generate: false', () => {
    const quiet = corr('type: event_count\nrules: [a, b]\ntimespan: 1m\ncondition:\n  gte: 2', '', 'quiet');
    const loud = corr('type: event_count\nrules: [b, c]\ngenerate: true\ntimespan: 1m\ncondition:\n  gte: 2', '', 'loud');
    const c = correlator([quiet, loud]);
    assert.deepEqual([...c.referencedRules()].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...c.suppressedRules()].sort(), ['a']);
  });

  void test('suppressedCorrelations: an inner correlation used by a generate: false correlation', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const c = correlator(l.rules);
    assert.deepEqual([...c.referencedRules()].sort(), ['4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', '53ba33fd-3a50-4468-a5ef-c583635cfa92']);
    assert.deepEqual([...c.suppressedRules()].sort(), ['4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', '53ba33fd-3a50-4468-a5ef-c583635cfa92']);
    assert.deepEqual([...c.suppressedCorrelations()], ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41']);
  });

  void test('fieldsFor: group-by (through aliases) and value fields, across correlations', () => {
    const r1 = corr('type: value_count\nrules: [a, b]\ngroup-by: [ip, User]\ntimespan: 1m\naliases:\n  ip:\n    a: src.ip\n    b: dst.ip\ncondition:\n  field: Target\n  gte: 2', '', 'r1');
    const r2 = corr('type: value_sum\nrules: a\ngroup-by: Host\ntimespan: 1m\ncondition:\n  field: Bytes\n  gte: 2', '', 'r2');
    const c = correlator([r1, r2]);
    assert.deepEqual(c.fieldsFor('a'), ['src.ip', 'User', 'Target', 'Host', 'Bytes']);
    assert.deepEqual(c.fieldsFor('b'), ['dst.ip', 'User', 'Target']);
    assert.deepEqual(c.fieldsFor('zzz'), []);
  });
});

void describe('chained correlations', () => {
  const FAIL = '53ba33fd-3a50-4468-a5ef-c583635cfa92';
  const OK = '4d0a2c83-c62c-4ed4-b475-c7e23a9269b8';

  void test('the spec example: ten failed logins, then a successful login; inner output first, then the outer', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const c = correlator(l.rules);
    const U = { User: 'alice' };
    const evs: CorrelationInput[] = [];
    for (let i = 0; i < 10; i++) evs.push(inp(FAIL, i * 10, U));
    evs.push(inp(OK, 120, U, 'ok'));
    const out = c.push(evs, 0);
    assert.deepEqual(
      out.map((o) => o.rule.info.id),
      ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41', 'b180ead8-d58f-40b2-ae54-c8940995b9b6'],
    );
    assert.deepEqual(windows(out), [
      [0, 90, 10],
      [90, 120, 2],
    ]);
    assert.deepEqual(out[1]!.contributing, [out[0]!.fingerprint, 'ok']);
    assert.deepEqual(out[1]!.group, { User: 'alice' });
    assert.deepEqual(c.flush(), []);
  });

  void test('not fired: too few failures, success before the failures, another user', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const fails = (u: string, n: number, t0 = 0) => Array.from({ length: n }, (_, i) => inp(FAIL, t0 + i, { User: u }));
    assert.deepEqual(runAll(correlator(l.rules), [...fails('a', 9), inp(OK, 20, { User: 'a' })]), []);
    const before = runAll(correlator(l.rules), [inp(OK, 0, { User: 'a' }), ...fails('a', 10, 1)]);
    assert.deepEqual(
      before.map((o) => o.rule.info.id),
      ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41'],
      'only the inner',
    );
    const other = runAll(correlator(l.rules), [...fails('a', 10), inp(OK, 20, { User: 'b' })]);
    assert.equal(other.length, 1);
  });

  void test('with lateness the outer waits for the inner group: the inner output is never late', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const c = correlator(l.rules, { latenessMs: 5_000 });
    const U = { User: 'alice' };
    const out: CorrelationOutput[] = [];
    for (let i = 0; i < 10; i++) out.push(...c.push([inp(FAIL, i, U)], 0));
    out.push(...c.push([inp(OK, 12, U, 'ok12'), inp(OK, 100, U, 'ok100')], 0));
    assert.equal(out.length, 0, 'the outer is final up to 95 on its own, but the inner group only decided up to 4');
    out.push(...c.push([inp(FAIL, 200, U)], 0)); // inner final up to 195 → fires at 9 → outer final up to 95
    assert.deepEqual(windows(out), [
      [0, 9, 10],
      [9, 12, 2],
    ]);
    assert.deepEqual(out[1]!.contributing, [out[0]!.fingerprint, 'ok12']);
  });

  void test('an idle tick decides the inner and then the outer in the same call', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const c = correlator(l.rules, { latenessMs: 5_000 });
    const U = { User: 'alice' };
    const evs = Array.from({ length: 10 }, (_, i) => inp(FAIL, i, U));
    evs.push(inp(OK, 12, U));
    assert.deepEqual(c.push(evs, 1_000), []);
    assert.deepEqual(c.tick(4_000), []);
    const out = c.tick(6_000);
    assert.deepEqual(
      out.map((o) => o.rule.info.id),
      ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41', 'b180ead8-d58f-40b2-ae54-c8940995b9b6'],
    );
  });
});

void describe('order, lateness and late input', () => {
  const r = corr('type: event_count\nrules: [a, b]\ngroup-by: host\ntimespan: 10s\ncondition:\n  gte: 3');

  void test('with lateness 0 one push is sorted before processing', () => {
    const evs = [inp('a', 2, H), inp('a', 0, H), inp('a', 1, H)];
    assert.deepEqual(windows(correlator(r).push(evs, 0)), [[0, 2, 3]]);
  });

  void test('within the lateness, arrival order does not matter; nothing is final before newest − lateness', () => {
    const c = correlator(r, { latenessMs: 5_000 });
    assert.deepEqual(c.push([inp('a', 10, H), inp('a', 12, H)], 0), []);
    assert.deepEqual(c.push([inp('a', 8, H)], 0), [], 'on time: 8 ≥ 12 − 5');
    assert.equal(c.stats.pendingEvents, 3);
    assert.deepEqual(windows(c.push([inp('a', 18, H)], 0)), [[8, 12, 3]]);
    assert.equal(c.stats.lateAccepted + c.stats.lateDropped, 0);
  });

  void test('a late input inside the open window is evaluated; one before it is dropped; both counted', () => {
    const c = correlator(r);
    assert.deepEqual(c.push([inp('a', 10, H), inp('a', 12, H)], 0), []);
    assert.deepEqual(windows(c.push([inp('a', 5, H)], 0)), [[5, 12, 3]], 'late but within the window: evaluated');
    assert.equal(c.stats.lateAccepted, 1);
    assert.deepEqual(c.push([inp('a', 11, H)], 0), [], 'before the end of the fired window: dropped');
    assert.equal(c.stats.lateDropped, 1);
    c.push([inp('a', 40, H)], 0);
    assert.deepEqual(c.push([inp('a', 20, H)], 0), [], 'more than a timespan before the newest: dropped');
    assert.equal(c.stats.lateDropped, 2);
  });

  void test('late input in an anchored window is counted in it', () => {
    const lt = corr('type: event_count\nrules: a\ntimespan: 10s\ncondition:\n  lte: 2');
    const c = correlator(lt);
    c.push([inp('a', 0), inp('a', 5)], 0);
    c.push([inp('a', 3)], 0);
    assert.equal(c.stats.lateAccepted, 1);
    assert.deepEqual(c.flush(), [], 'three events: lte 2 fails');
  });

  void test('duplicates (the same input twice) count once', () => {
    const c = correlator(r, { latenessMs: 5_000 });
    const x = inp('a', 1, H, 'same');
    c.push([x, x], 0);
    c.push([x], 0);
    const out = [...c.push([inp('a', 2, H)], 0), ...c.flush()];
    assert.deepEqual(out, []);
    assert.equal(c.stats.duplicates, 2);
  });

  void test('tick finalizes groups idle for the lateness of wall clock and closes anchored windows behind the clock', () => {
    const c = correlator(r, { latenessMs: 60_000 });
    c.push([inp('a', 0, H), inp('a', 1, H), inp('a', 2, H)], 1_000);
    assert.deepEqual(c.tick(30_000), [], 'not idle long enough');
    assert.deepEqual(windows(c.tick(61_000)), [[0, 2, 3]]);
    const lt = correlator(corr('type: event_count\nrules: a\ntimespan: 10s\ncondition:\n  lt: 5'), { latenessMs: 1_000 });
    lt.push([inp('a', 100), inp('a', 101)], 0);
    assert.deepEqual(lt.tick(1_000), [], 'idle, but the window [100 s, 110 s] is ahead of the wall clock (1 s)');
    assert.equal(lt.stats.groups, 1);
    assert.deepEqual(windows(lt.tick(112_000)), [[100, 110, 2]]);
    assert.equal(lt.stats.groups, 0, 'the decided group is dropped');
  });

  void test('tick drops idle groups whose window can no longer fire, on the group\'s own clock', () => {
    const c = correlator(r, { latenessMs: 1_000 });
    c.push([inp('a', 100, H), inp('a', 101, H)], 0);
    c.tick(2_000);
    assert.equal(c.stats.groups, 1, 'its window [91 s, 101 s] may still grow (the group is at 101 s + 2 s idle)');
    assert.equal(c.stats.pendingEvents, 2);
    c.tick(11_000);
    assert.equal(c.stats.groups, 1, 'idle 11 s: at 101 s + 10 s + lateness exactly, an event at 111 s would still count');
    c.tick(11_001);
    assert.equal(c.stats.groups, 0, 'idle past timespan + lateness: nothing can join the window any more');
  });

  void test('a group whose events are months behind the wall clock keeps its window while it is idle (skewed host, catch-up)', () => {
    // event_count gte 3 in 10 s by host; events of March arriving in December, two seconds of wall clock apart.
    const c = correlator(r, { latenessMs: 1_000 });
    const wall0 = 1_796_500_000_000;
    const fired: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      fired.push(...c.push([inp('a', 1_772_323_200 + i * 3, H)], wall0 + i * 2_000));
      fired.push(...c.tick(wall0 + i * 2_000 + 1_500));
    }
    fired.push(...c.tick(wall0 + 20_000));
    assert.equal(fired.length, 1, 'the three events 3 s apart fire, although each was idle past the lateness before the next came');
  });

  void test('times keep their nanoseconds; tiny times work', () => {
    const c = correlator(corr('type: event_count\nrules: a\ntimespan: 1s\ncondition:\n  gte: 2'));
    const out = runAll(c, [
      { ruleId: 'a', timeNs: '1700000000000000123', fingerprint: 'x', host: '', fields: {} },
      { ruleId: 'a', timeNs: '1700000001000000123', fingerprint: 'y', host: '', fields: {} },
      { ruleId: 'a', timeNs: '1700000002000000124', fingerprint: 'z', host: '', fields: {} },
    ]);
    assert.deepEqual(
      out.map((o) => [o.windowStartNs, o.windowEndNs]),
      [['1700000000000000123', '1700000001000000123']],
    );
    const tiny = runAll(correlator(corr('type: event_count\nrules: a\ntimespan: 1s\ncondition:\n  gte: 2')), [
      { ruleId: 'a', timeNs: '5', fingerprint: 'x', host: '', fields: {} },
      { ruleId: 'a', timeNs: '0000000000007', fingerprint: 'y', host: '', fields: {} },
    ]);
    assert.deepEqual(
      tiny.map((o) => [o.windowStartNs, o.windowEndNs]),
      [['5', '7']],
    );
  });

  void test('inputs that name an inner correlation are not taken from outside', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const c = correlator(l.rules);
    const out = runAll(c, [inp('a8418a5a-5fc4-46b5-b23b-6c73beb19d41', 0, { User: 'u' }), inp('4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', 1, { User: 'u' })]);
    assert.deepEqual(out, []);
  });

  void test('bad input never throws: bad times are counted and ignored', () => {
    const c = correlator(r);
    const bad = [
      { ruleId: 'a', timeNs: '-5', fingerprint: 'x', host: 'h', fields: H },
      { ruleId: 'a', timeNs: '1.5e9', fingerprint: 'x', host: 'h', fields: H },
      { ruleId: 'a', timeNs: 12 as unknown as string, fingerprint: 'x', host: 'h', fields: H },
      { ruleId: 'a', timeNs: '99999999999999999999999999', fingerprint: 'x', host: 'h', fields: H },
      null as unknown as CorrelationInput,
      { ruleId: 'a', timeNs: '5', fingerprint: 7 as unknown as string, host: undefined as unknown as string, fields: null as unknown as Record<string, string> },
      { ruleId: 'unknown', timeNs: '5', fingerprint: 'x', host: 'h', fields: H },
    ];
    assert.deepEqual(c.push(bad, 0), []);
    assert.equal(c.stats.invalid, 5);
    assert.equal(c.stats.missingGroup, 1);
    assert.deepEqual(c.flush(), []);
  });
});

void describe('bounds and eviction', () => {
  const r = corr('type: event_count\nrules: a\ngroup-by: host\ntimespan: 1h\ncondition:\n  gte: 100');

  void test('maxEventsPerGroup drops the oldest events', () => {
    const c = correlator(r, { maxEventsPerGroup: 5 });
    c.push(
      Array.from({ length: 8 }, (_, i) => inp('a', i, H)),
      0,
    );
    assert.equal(c.stats.pendingEvents, 5);
    assert.equal(c.stats.evictedEvents, 3);
    assert.equal(c.stats.evicted, 3);
    const lte = correlator(corr('type: event_count\nrules: a\ntimespan: 1h\ncondition:\n  gte: 5'), { maxEventsPerGroup: 5, latenessMs: 100_000 });
    lte.push(
      Array.from({ length: 7 }, (_, i) => inp('a', i, {}, `f${i}`)),
      0,
    );
    assert.equal(lte.stats.evictedEvents, 2, 'pending events are capped too');
    assert.deepEqual(lte.flush()[0]!.contributing, ['f2', 'f3', 'f4', 'f5', 'f6']);
  });

  void test('maxGroupsPerRule evicts the least recently updated group of that rule', () => {
    const r2 = corr('type: event_count\nrules: a\ngroup-by: host\ntimespan: 1h\ncondition:\n  gte: 2', '', 'r2');
    const c = correlator([r2], { maxGroupsPerRule: 2 });
    c.push([inp('a', 0, { host: 'x' }), inp('a', 1, { host: 'y' })], 0);
    c.push([inp('a', 2, { host: 'z' })], 0); // evicts x
    assert.equal(c.stats.evictedGroups, 1);
    assert.equal(c.stats.groups, 2);
    assert.deepEqual(
      c.push([inp('a', 3, { host: 'y' })], 0).map((o) => o.group.host),
      ['y'],
      'y kept its event',
    );
    c.push([inp('a', 4, { host: 'x' })], 0); // a new x evicts z (y was updated after z)
    assert.equal(c.stats.evictedGroups, 2);
    assert.deepEqual(c.push([inp('a', 5, { host: 'z' })], 0), [], 'z lost its event');
    assert.deepEqual(
      c.push([inp('a', 6, { host: 'x' })], 0).map((o) => o.group.host),
      ['x'],
    );
  });

  void test('maxGroups is global across rules', () => {
    const r1 = corr('type: event_count\nrules: a\ngroup-by: host\ntimespan: 1h\ncondition:\n  gte: 9', '', 'g1');
    const r2 = corr('type: event_count\nrules: a\ngroup-by: host\ntimespan: 1h\ncondition:\n  gte: 9', '', 'g2');
    const c = correlator([r1, r2], { maxGroups: 3 });
    c.push([inp('a', 0, { host: 'x' }), inp('a', 1, { host: 'y' })], 0);
    assert.equal(c.stats.groups, 3);
    assert.equal(c.stats.evictedGroups, 1);
  });
});

void describe('snapshot and restore', () => {
  const rules = [
    corr('type: event_count\nrules: [a, b]\ngroup-by: host\ntimespan: 10s\ncondition:\n  gte: 4', '', 's1'),
    corr('type: value_sum\nrules: a\ngroup-by: host\ntimespan: 10s\ncondition:\n  field: n\n  gte: 1', '', 's2'),
    corr('type: value_avg\nrules: a\ngroup-by: host\ntimespan: 10s\ncondition:\n  field: n\n  gt: 0.1', '', 's3'),
    corr('type: temporal_ordered\nrules: [a, b]\ngroup-by: host\ntimespan: 10s', '', 's4'),
    corr('type: value_count\nrules: [a, b]\ngroup-by: host\ntimespan: 10s\ncondition:\n  field: n\n  gte: 3', '', 's5'),
  ];
  const stream: CorrelationInput[] = [];
  for (let i = 0; i < 40; i++) stream.push(inp(i % 3 === 0 ? 'b' : 'a', i * 0.7, { host: `h${i % 2}`, n: String((i * 0.37) % 1) }, `s${i}`));

  void test('a restore in the middle of a window continues it: the same outputs as without the restart', () => {
    const opts = { latenessMs: 2_000 };
    const whole = correlator(rules, opts);
    const expected = digest([...whole.push(stream.slice(0, 17), 0), ...whole.push(stream.slice(17), 0), ...whole.flush()]);
    const first = correlator(rules, opts);
    const before = first.push(stream.slice(0, 17), 0);
    const state = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
    const second = correlator(rules, opts);
    second.restore(state);
    assert.equal(second.stats.groups, first.stats.groups);
    assert.equal(second.stats.pendingEvents, first.stats.pendingEvents);
    const after = [...second.push(stream.slice(17), 0), ...second.flush()];
    assert.deepEqual(digest([...before, ...after]), expected);
    assert.ok(expected.length > 5, `${expected.length} outputs`);
  });

  void test('fired windows are remembered: replaying inputs after a restore fires nothing twice', () => {
    const c = correlator(rules);
    const fired = c.push(stream.slice(0, 20), 0);
    assert.ok(fired.length > 0);
    const again = correlator(rules);
    again.restore(JSON.parse(JSON.stringify(c.snapshot())));
    const replayed = again.push(stream.slice(0, 20), 0);
    const firedSet = new Set(fired.map((o) => o.fingerprint));
    assert.deepEqual(
      replayed.filter((o) => firedSet.has(o.fingerprint)),
      [],
    );
    assert.equal(again.stats.fired, c.stats.fired + replayed.length, 'counters are restored');
  });

  void test('state of rules that are gone or changed is dropped; garbage restores nothing and does not throw', () => {
    const c = correlator(rules);
    c.push(stream.slice(0, 10), 0);
    const snap = c.snapshot();
    const changed = corr('type: event_count\nrules: [a, b]\ngroup-by: host\ntimespan: 20s\ncondition:\n  gte: 4', '', 's1');
    const other = correlator([changed, rules[1]!]);
    other.restore(snap);
    assert.equal(other.stats.groups, 2, 'only s2 (two hosts)');
    for (const junk of [null, 42, 'x', { v: 2 }, { v: 1, groups: [null, 1, { r: 's2', k: 5 }], rules: 'no' }, { v: 1, rules: [{ key: 's2', sig: 'bad' }], groups: [{ r: 's2' }] }]) {
      const d = correlator(rules);
      assert.doesNotThrow(() => d.restore(junk));
      assert.equal(d.stats.groups, 0);
    }
  });
});

void describe('Correlator construction', () => {
  void test('the rules may come in any order: chains are ordered internally', () => {
    const l = load(SPEC_FULL_EXAMPLE);
    const rev = new Correlator([...l.rules].reverse(), OPTS);
    const U = { User: 'alice' };
    const evs = Array.from({ length: 10 }, (_, i) => inp('53ba33fd-3a50-4468-a5ef-c583635cfa92', i, U));
    evs.push(inp('4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', 20, U));
    assert.equal(runAll(rev, evs).length, 2);
  });
});
