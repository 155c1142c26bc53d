/**
 * Compiles a detection item's values (after modifiers) into a test over the event.
 *
 * Hot path. Needles are lower-cased here, once; field values are lower-cased once per event by
 * the EventView. An OR-list of plain strings (by far the most common item) becomes one matcher
 * that checks a Set for exact values and runs startsWith / endsWith / includes for the rest, so
 * no regex runs unless the rule wrote `re`. Every test also carries its witness (the string
 * facts one of which must hold for it to accept), which the prefilter indexes.
 */
import { cidrContains } from './cidr.ts';
import { andAll, ANY_FIELD, anyOf, negate, type CostedTest, type Fact, type KeywordProbe, type Test, type Witness } from './combine.ts';
import type { FieldString } from './event-view.ts';
import type { SigmaValue, TimeUnit } from './modifiers.ts';
import { ModifierError } from './modifiers.ts';
import { compileSafeRegex, LINEAR_FROM } from './regex.ts';
import { isAscii, runStringTest, STAR, stringTest, type Glob, type Part, type StringTest } from './sigma-string.ts';


type Pred = (x: string) => boolean;

/** Compiles `field: values` (OR, or AND with `all`; NOT with `neq`). `fieldIndex` numbers the rule's fields. */
export function fieldItemTest(field: string, values: readonly SigmaValue[], all: boolean, neg: boolean, fieldIndex: (name: string) => number): CostedTest {
  const fi = fieldIndex(field);
  const groups = all ? values.map((v) => [v]) : [values];
  const tests = groups.map((g) => orGroup(fi, flatten(g), fieldIndex));
  let t = tests.length === 1 ? tests[0]! : andAll(tests);
  if (neg) t = negate(t);
  return t;
}

/** Compiles an unnamed value list (keywords): each value is searched in every field value of the event. */
export function keywordTest(values: readonly SigmaValue[], all: boolean, neg: boolean): { test: CostedTest; probes: KeywordProbe[] } {
  const probes: KeywordProbe[] = [];
  const groupTests = (all ? values.map((v) => [v]) : [values]).map((g): CostedTest => {
    const lowPreds: Pred[] = [];
    const origPreds: Pred[] = [];
    let facts: Fact[] | null = [];
    for (const v of flatten(g)) {
      const p = keywordPred(v);
      (p.original ? origPreds : lowPreds).push(p.pred);
      if (p.fact === null) facts = null;
      else facts?.push(p.fact);
    }
    probes.push(...lowPreds);
    const anyLow = anyPred(lowPreds);
    const anyOrig = anyPred(origPreds);
    const test: Test = (v) => {
      if (lowPreds.length !== 0) {
        const lows = v.allLower();
        for (let i = 0; i < lows.length; i++) if (anyLow(lows[i]!)) return true;
      }
      if (origPreds.length !== 0) {
        const orig = v.allValues();
        for (let i = 0; i < orig.length; i++) if (anyOrig(orig[i]!)) return true;
      }
      return false;
    };
    return { test, cost: 50, witness: facts };
  });
  let t = groupTests.length === 1 ? groupTests[0]! : andAll(groupTests);
  if (neg) t = negate(t);
  return { test: t, probes };
}

function keywordPred(v: SigmaValue): { pred: Pred; original: boolean; fact: Fact | null } {
  switch (v.t) {
    case 'str': {
      // A keyword is a substring search: implicit `*` on both sides.
      let parts: Part[] = [...v.parts];
      if (parts[0] !== STAR) parts = [STAR, ...parts];
      if (parts[parts.length - 1] !== STAR) parts = [...parts, STAR];
      const t = stringTest(parts, !v.cased);
      const pred: Pred = (x) => runStringTest(t, x);
      return { pred, original: v.cased, fact: testFact(ANY_FIELD, t, !v.cased) };
    }
    case 'num':
    case 'bool': {
      const needle = v.t === 'num' ? v.text.toLowerCase() : String(v.b);
      return { pred: (x) => x.includes(needle), original: false, fact: { f: ANY_FIELD, k: 'ct', s: needle } };
    }
    case 're': {
      const r = regex(v);
      return { pred: regexPred(r), original: !r.lowercaseInput, fact: r.literal ? { f: ANY_FIELD, k: 'ct', s: r.literal } : null };
    }
    case 'cidr':
      return { pred: (x) => cidrContains(v.net, x), original: false, fact: null };
    default:
      throw new ModifierError(`a ${v.t === 'null' ? 'null value' : v.t} cannot be a keyword (keywords search every field; give a field name)`);
  }
}

const flatten = (vs: readonly SigmaValue[]): SigmaValue[] => vs.flatMap((v) => (v.t === 'exp' ? flatten(v.items) : [v]));

function regex(v: Extract<SigmaValue, { t: 're' }>) {
  const r = compileSafeRegex(v.pattern, v.flags);
  if (!r.ok) throw new ModifierError(r.reason);
  return r;
}

/** Skips values shorter than any match (e.g. `.{1000,}`) before running the regex. */
function regexPred(r: { regex: RegExp; linear: RegExp; minLength: number }): Pred {
  const re = r.regex;
  const linear = r.linear;
  const min = r.minLength;
  return (x) => x.length >= min && (x.length < LINEAR_FROM ? re.test(x) : linear.test(x));
}

/** OR over values of one field. */
function orGroup(fi: number, values: readonly SigmaValue[], fieldIndex: (name: string) => number): CostedTest {
  const lowerTests: StringTest[] = [];
  const casedTests: StringTest[] = [];
  const others: CostedTest[] = [];
  let matchNull = false;
  for (const v of values) {
    switch (v.t) {
      case 'str':
        (v.cased ? casedTests : lowerTests).push(stringTest(v.parts, !v.cased));
        break;
      case 'num':
        lowerTests.push({ k: 'eq', s: String(v.n) });
        if (v.text.toLowerCase() !== String(v.n)) lowerTests.push({ k: 'eq', s: v.text.toLowerCase() });
        break;
      case 'bool':
        lowerTests.push({ k: 'eq', s: String(v.b) });
        break;
      case 'null':
        matchNull = true;
        break;
      case 're': {
        const r = regex(v);
        const pred = regexPred(r);
        const witness: Witness | null = r.literal ? [{ f: fi, k: 'ct', s: r.literal }] : null;
        others.push({ test: r.lowercaseInput ? onLower(fi, pred) : onValue(fi, pred), cost: 20, witness });
        break;
      }
      case 'cidr': {
        const net = v.net;
        others.push({ test: onValue(fi, (x) => cidrContains(net, x)), cost: 5, witness: null });
        break;
      }
      case 'fieldref':
        others.push({ test: fieldRef(fi, fieldIndex(v.field), v.sw, v.ew), cost: 3, witness: null });
        break;
      case 'exists': {
        const want = v.b;
        others.push({ test: (ev, s) => (ev.value(s[fi]!) !== undefined) === want, cost: 1, witness: null });
        break;
      }
      case 'cmp': {
        const { op, n, unit } = v;
        const cmp: (x: number) => boolean = op === 'lt' ? (x) => x < n : op === 'lte' ? (x) => x <= n : op === 'gt' ? (x) => x > n : (x) => x >= n;
        const test = onValue(fi, (x) => {
          const num = unit ? timePart(x, unit) : toNumber(x);
          return num !== undefined && cmp(num);
        });
        others.push({ test, cost: 3, witness: null });
        break;
      }
      case 'time': {
        const { unit, n } = v;
        others.push({ test: onValue(fi, (x) => timePart(x, unit) === n), cost: 3, witness: null });
        break;
      }
      case 'exp':
        throw new Error('expansions are flattened before orGroup');
    }
  }
  const tests: CostedTest[] = [];
  if (lowerTests.length) tests.push(stringSetTest(fi, lowerTests, true));
  if (casedTests.length) tests.push(stringSetTest(fi, casedTests, false));
  if (matchNull) {
    tests.push({
      test: (ev, s) => {
        const x = ev.value(s[fi]!);
        return x === undefined || x === '';
      },
      cost: 1,
      witness: null,
    });
  }
  tests.push(...others);
  if (tests.length === 0) return { test: () => false, cost: 0, witness: [] };
  return tests.length === 1 ? tests[0]! : anyOf(tests);
}

/** Several string tests on one field as one matcher: a Set for exact values, method calls for the rest. */
function stringSetTest(fi: number, tests: readonly StringTest[], lower: boolean): CostedTest {
  const eq = new Set<string>();
  const sw: string[] = [];
  const ew: string[] = [];
  const ct: string[] = [];
  const rest: StringTest[] = [];
  let any = false;
  for (const t of tests) {
    if (t.k === 'eq') eq.add(t.s);
    else if (t.k === 'sw') sw.push(t.s);
    else if (t.k === 'ew') ew.push(t.s);
    else if (t.k === 'ct') ct.push(t.s);
    else if (t.k === 'any') any = true;
    else rest.push(t);
  }
  let pred: Pred;
  if (any) pred = () => true;
  else if (eq.size === 1 && sw.length + ew.length + ct.length + rest.length === 0) pred = equalsPred(eq.values().next().value!);
  else if (eq.size === 0 && sw.length + ew.length + rest.length === 0 && ct.length === 1) pred = includesPred(ct[0]!);
  else if (eq.size === 0 && sw.length + ct.length + rest.length === 0 && ew.length === 1) pred = endsWithPred(ew[0]!);
  else pred = anyStringPred(eq.size !== 0 ? eq : null, sw, ew, ct, rest);
  const cost = 1 + (sw.length + ew.length) * 0.2 + ct.length * 0.5 + rest.length;
  return { test: lower ? onLower(fi, pred) : onValue(fi, pred), cost, witness: stringWitness(fi, tests, lower) };
}

/*
 * Each matcher closure is made by a factory of its own, so it keeps only what it reads: a closure made
 * inline keeps its whole function's scope, and with ~14,000 string matchers in the SigmaHQ ruleset the
 * unused Sets and arrays were megabytes in every worker.
 */
const NONE: readonly never[] = [];
const equalsPred = (only: string): Pred => (x) => x === only;
const includesPred = (only: string): Pred => (x) => x.includes(only);
const endsWithPred = (only: string): Pred => (x) => x.endsWith(only);

function anyStringPred(eq: ReadonlySet<string> | null, sw: readonly string[], ew: readonly string[], ct: readonly string[], rest: readonly StringTest[]): Pred {
  const [s, e, c, r] = [sw, ew, ct, rest].map((a) => (a.length !== 0 ? a : NONE)) as [readonly string[], readonly string[], readonly string[], readonly StringTest[]];
  return (x) => {
    if (eq !== null && eq.has(x)) return true;
    for (let i = 0; i < e.length; i++) if (x.endsWith(e[i]!)) return true;
    for (let i = 0; i < s.length; i++) if (x.startsWith(s[i]!)) return true;
    for (let i = 0; i < c.length; i++) if (x.includes(c[i]!)) return true;
    for (let i = 0; i < r.length; i++) if (runStringTest(r[i]!, x)) return true;
    return false;
  };
}

/**
 * Facts implied by string tests on field `fi`. Lower-cased tests give their needle as is. A
 * case-sensitive needle is lower-cased into a fact only when it is ASCII (lower-casing is not
 * substring-preserving for every Unicode character, e.g. final sigma). A wildcard pattern gives
 * its anchored prefix or suffix, or its longest literal run.
 */
function stringWitness(fi: number, tests: readonly StringTest[], lower: boolean): Witness | null {
  const facts: Fact[] = [];
  for (const t of tests) {
    const fact = testFact(fi, t, lower);
    if (fact === null) return null;
    facts.push(fact);
  }
  return facts;
}

function testFact(fi: number, t: StringTest, lower: boolean): Fact | null {
  if (t.k === 'any') return null;
  const fact = t.k === 'glob' ? globFact(fi, t.g) : { f: fi, k: t.k, s: t.s };
  if (fact === null || lower) return fact;
  return isAscii(fact.s) ? { ...fact, s: fact.s.toLowerCase() } : null;
}

function globFact(fi: number, g: Glob): Fact | null {
  const first = g.segs[0];
  const last = g.segs[g.segs.length - 1];
  const literal = (seg: { text: string; any: readonly boolean[] | null }) => seg.any === null;
  if (g.anchoredStart && first && first.text && literal(first)) return { f: fi, k: 'sw', s: first.text };
  if (g.anchoredEnd && last && last.text && literal(last)) return { f: fi, k: 'ew', s: last.text };
  let best = '';
  for (const seg of g.segs) {
    let run = '';
    for (let i = 0; i <= seg.text.length; i++) {
      if (i === seg.text.length || seg.any?.[i]) {
        if (run.length > best.length) best = run;
        run = '';
      } else run += seg.text[i];
    }
  }
  return best ? { f: fi, k: 'ct', s: best } : null;
}

function applyTo(x: FieldString, pred: Pred): boolean {
  if (x === undefined) return false;
  if (typeof x === 'string') return pred(x);
  for (let i = 0; i < x.length; i++) if (pred(x[i]!)) return true;
  return false;
}

const onLower = (fi: number, pred: Pred): Test => (v, s) => applyTo(v.lower(s[fi]!), pred);
const onValue = (fi: number, pred: Pred): Test => (v, s) => applyTo(v.value(s[fi]!), pred);

function fieldRef(fi: number, other: number, sw: boolean, ew: boolean): Test {
  const rel = sw && ew ? (a: string, b: string) => a.includes(b) : sw ? (a: string, b: string) => a.startsWith(b) : ew ? (a: string, b: string) => a.endsWith(b) : (a: string, b: string) => a === b;
  return (v, s) => {
    const a = v.lower(s[fi]!);
    const b = v.lower(s[other]!);
    if (a === undefined || b === undefined) return false;
    const as = typeof a === 'string' ? [a] : a;
    const bs = typeof b === 'string' ? [b] : b;
    for (const x of as) for (const y of bs) if (rel(x, y)) return true;
    return false;
  };
}

function toNumber(x: string): number | undefined {
  const t = x.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2}))?/;

/**
 * The date part `unit` of a timestamp field. Spec: "no timezone or format conversion", so an
 * ISO-8601 text gives the components as written; an epoch number (s, ms, µs or ns, by magnitude)
 * is read as UTC.
 */
export function timePart(x: string, unit: TimeUnit): number | undefined {
  let y: number, mo: number, d: number, h: number, mi: number;
  const m = ISO_DATE.exec(x.trim());
  if (m) {
    [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0)];
  } else {
    const n = toNumber(x);
    if (n === undefined) return undefined;
    const abs = Math.abs(n);
    const ms = abs >= 1e17 ? n / 1e6 : abs >= 1e14 ? n / 1e3 : abs >= 1e11 ? n : n * 1000;
    const date = new Date(ms);
    if (Number.isNaN(date.getTime())) return undefined;
    [y, mo, d, h, mi] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes()];
  }
  switch (unit) {
    case 'minute':
      return mi;
    case 'hour':
      return h;
    case 'day':
      return d;
    case 'month':
      return mo;
    case 'year':
      return y;
    case 'week':
      return isoWeek(y, mo, d);
  }
}

function isoWeek(y: number, mo: number, d: number): number {
  const date = new Date(Date.UTC(y, mo - 1, d));
  date.setUTCDate(date.getUTCDate() + 4 - (date.getUTCDay() || 7)); // the Thursday of this ISO week
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
}

function anyPred(preds: readonly Pred[]): Pred {
  if (preds.length === 0) return () => false;
  if (preds.length === 1) return preds[0]!;
  return (x) => {
    for (let i = 0; i < preds.length; i++) if (preds[i]!(x)) return true;
    return false;
  };
}
