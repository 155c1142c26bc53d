/**
 * Order independence (property tests): for any stream, arrival shuffled within the lateness and cut
 * into any batches gives the same fired windows as the stream in order in one push; so does the
 * stream in order cut into many pushes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CorrelationInput, CorrelationRule } from '../../../../src/detect/correlation/types.ts';
import { corr, correlator, digest, load } from './helpers.ts';

const LATENESS = 10_000;

const RULES: CorrelationRule[] = [
  corr('type: event_count\nrules: [a, b]\ngroup-by: g\ntimespan: 20s\ncondition:\n  gte: 3', '', 'p-count'),
  corr('type: value_count\nrules: [a, b, c]\ngroup-by: g\ntimespan: 20s\ncondition:\n  field: v\n  gte: 2', '', 'p-distinct'),
  corr('type: value_sum\nrules: [a, c]\ngroup-by: g\ntimespan: 20s\ncondition:\n  field: n\n  gte: 5', '', 'p-sum'),
  corr('type: temporal\nrules: [a, b]\ngroup-by: g\ntimespan: 20s', '', 'p-temporal'),
  corr('type: temporal_ordered\nrules: [a, b, c]\ngroup-by: g\ntimespan: 30s', '', 'p-ordered'),
  corr('type: event_count\nrules: [a]\ngroup-by: g\ntimespan: 20s\ncondition:\n  lt: 3', '', 'p-lt'),
  corr('type: value_avg\nrules: [b]\ngroup-by: g\ntimespan: 20s\ncondition:\n  field: n\n  gt: 2', '', 'p-avg'),
  corr('type: value_percentile\nrules: [a, b]\ngroup-by: g\ntimespan: 20s\ncondition:\n  field: n\n  percentile: 75\n  lte: 3', '', 'p-pct'),
  corr("type: temporal\ntimespan: 15s\ngroup-by: g\ncondition: 'rule_a and not rule_c'", '', 'p-expr'),
  corr('type: value_count\nrules: [a, b]\ntimespan: 20s\ncondition:\n  field: v\n  gte: 2\n  lte: 3', '', 'p-range'),
  corr('type: temporal_ordered\nrules: [a, b, a]\ngroup-by: g\ntimespan: 25s\ncondition:\n  gte: 2', '', 'p-ordered2'),
];

interface Ev {
  readonly rule: 'a' | 'b' | 'c';
  readonly g: string;
  readonly ms: number;
  readonly sub: number;
  readonly v: string;
  readonly n: string;
  readonly jitter: number;
  readonly cut: boolean;
}

const evArbOf = (maxMs: number, groups: readonly string[]): fc.Arbitrary<Ev> => fc.record({
  rule: fc.constantFrom('a' as const, 'b' as const, 'c' as const),
  g: fc.constantFrom(...groups),
  ms: fc.integer({ min: 0, max: maxMs }),
  sub: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 })),
  v: fc.constantFrom('x', 'y', 'z'),
  n: fc.constantFrom('0', '1', '2', '3', '4', 'bad'),
  jitter: fc.integer({ min: 0, max: LATENESS - 1 }),
  cut: fc.boolean(),
});
const evArb = evArbOf(120_000, ['g1', 'g2', 'g3']);

const BASE_MS = 1_700_000_000_000;

function toInputs(evs: readonly Ev[]): (CorrelationInput & { arrival: number; cut: boolean })[] {
  return evs.map((e, i) => ({
    ruleId: e.rule,
    timeNs: `${BASE_MS + e.ms}${String(e.sub).padStart(6, '0')}`,
    fingerprint: `f${i}`,
    host: `host${i % 4}`,
    fields: { g: e.g, v: e.v, n: e.n },
    arrival: e.ms + e.sub / 1e6 + e.jitter,
    cut: e.cut,
  }));
}

const byTime = (a: CorrelationInput, b: CorrelationInput) => (BigInt(a.timeNs) < BigInt(b.timeNs) ? -1 : BigInt(a.timeNs) > BigInt(b.timeNs) ? 1 : 0);

function inBatches(rules: readonly CorrelationRule[], batches: readonly (readonly CorrelationInput[])[]): string[] {
  const c = correlator(rules, { latenessMs: LATENESS });
  const out = batches.flatMap((b) => c.push(b, 0));
  out.push(...c.flush());
  for (const o of out) {
    assert.ok(BigInt(o.windowStartNs) <= BigInt(o.windowEndNs));
    assert.ok(o.contributingCount >= 1 && o.contributing.length === Math.min(100, o.contributingCount));
  }
  return digest(out);
}

/** Like inBatches, but the correlator is snapshotted (through JSON) and restored into a new one before batch `at`. */
function withRestart(rules: readonly CorrelationRule[], batches: readonly (readonly CorrelationInput[])[], at: number): string[] {
  let c = correlator(rules, { latenessMs: LATENESS });
  const out = [];
  batches.forEach((b, i) => {
    if (i === at) {
      const next = correlator(rules, { latenessMs: LATENESS });
      next.restore(JSON.parse(JSON.stringify(c.snapshot())));
      c = next;
    }
    out.push(...c.push(b, 0));
  });
  out.push(...c.flush());
  return digest(out);
}

function cutWhere(inputs: readonly (CorrelationInput & { cut: boolean })[]): CorrelationInput[][] {
  const batches: CorrelationInput[][] = [[]];
  for (const i of inputs) {
    batches[batches.length - 1]!.push(i);
    if (i.cut) batches.push([]);
  }
  return batches;
}

void describe('order independence', () => {
  void test('shuffled within the lateness, in any batches = in order in one push', () => {
    let fired = 0;
    fc.assert(
      fc.property(fc.array(evArb, { minLength: 10, maxLength: 80, size: 'max' }), (evs) => {
        const inputs = toInputs(evs);
        const ordered = [...inputs].sort(byTime);
        const expected = inBatches(RULES, [ordered]);
        fired += expected.length;
        const arrived = [...inputs].sort((a, b) => a.arrival - b.arrival);
        assert.deepEqual(inBatches(RULES, cutWhere(arrived)), expected);
      }),
      { numRuns: 300 },
    );
    assert.ok(fired > 300, `only ${fired} windows fired over all runs`);
  });

  void test('in order, split across many push calls = one call', () => {
    fc.assert(
      fc.property(fc.array(evArb, { minLength: 10, maxLength: 80, size: 'max' }), (evs) => {
        const ordered = toInputs(evs).sort(byTime);
        assert.deepEqual(inBatches(RULES, cutWhere(ordered)), inBatches(RULES, [ordered]));
        assert.deepEqual(
          inBatches(
            RULES,
            ordered.map((i) => [i]),
          ),
          inBatches(RULES, [ordered]),
        );
      }),
      { numRuns: 150 },
    );
  });

  void test('a snapshot/restore at any point between pushes changes nothing', () => {
    fc.assert(
      fc.property(fc.array(evArb, { minLength: 10, maxLength: 80, size: 'max' }), fc.nat(), (evs, at) => {
        const arrived = toInputs(evs).sort((a, b) => a.arrival - b.arrival);
        const batches = cutWhere(arrived);
        assert.deepEqual(withRestart(RULES, batches, at % (batches.length + 1)), inBatches(RULES, batches));
      }),
      { numRuns: 150 },
    );
  });

  void test('a chained correlation: shuffled within the lateness = in order', () => {
    // Inner: 3 events of a per group in 20 s; outer: the inner, then b, in 30 s.
    const l = load(
      `title: inner\nid: inner\nname: inner\ncorrelation:\n  type: event_count\n  rules: rule_a\n  group-by: g\n  timespan: 20s\n  condition:\n    gte: 3\n---\ntitle: outer\nid: outer\ncorrelation:\n  type: temporal_ordered\n  rules: [inner, rule_b]\n  group-by: g\n  timespan: 30s\n`,
      [
        { id: 'a', name: 'rule_a' },
        { id: 'b', name: 'rule_b' },
      ],
    );
    assert.equal(l.rules.length, 2);
    let outer = 0;
    fc.assert(
      fc.property(fc.array(evArbOf(60_000, ['g1', 'g2']), { minLength: 10, maxLength: 60, size: 'max' }), (evs) => {
        const inputs = toInputs(evs);
        const expected = inBatches(l.rules, [[...inputs].sort(byTime)]);
        outer += expected.filter((d) => d.includes('"r":"outer"')).length;
        const arrived = [...inputs].sort((a, b) => a.arrival - b.arrival);
        const batches = cutWhere(arrived);
        assert.deepEqual(inBatches(l.rules, batches), expected);
        assert.deepEqual(withRestart(l.rules, batches, Math.floor(batches.length / 2)), expected, 'with a restart halfway');
      }),
      { numRuns: 200 },
    );
    assert.ok(outer > 20, `only ${outer} outer windows fired over all runs`);
  });
});
