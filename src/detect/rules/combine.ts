/**
 * Compiled tests and how they combine. A test is a closure over the event view; AND / OR / NOT
 * sort their children cheapest first and short-circuit, and carry each test's witness (the string
 * facts one of which holds whenever it accepts) up the condition tree for the prefilter.
 */
import type { EventView } from './event-view.ts';

/** A compiled condition over the event; `s` maps the rule's field numbers to event slots. */
export type Test = (v: EventView, s: Int32Array) => boolean;
/**
 * A test with an estimate of its cost (so AND/OR run cheap tests first) and its witness: facts
 * at least one of which holds on every event the test accepts (see prefilter.ts), or null.
 */
export interface CostedTest {
  readonly test: Test;
  readonly cost: number;
  readonly witness: Witness | null;
}

/** A necessary string fact: the rule's field `f` (lower-cased) equals / starts / ends with / contains `s`. */
export interface Fact {
  readonly f: number;
  readonly k: 'eq' | 'sw' | 'ew' | 'ct';
  readonly s: string;
}
/** A disjunction of facts. */
export type Witness = readonly Fact[];

/** Lower-cased string predicate used for keyword hits in match reports. */
export type KeywordProbe = (lowerValue: string) => boolean;

/** Fact field number for "some field of the event" (keywords). */
export const ANY_FIELD = -1;

const byCost = (ts: readonly CostedTest[]) => [...ts].sort((a, b) => a.cost - b.cost);

/**
 * Estimated share of events on which a witness fires (lower is better): exact values are rare,
 * prefixes and suffixes less so, short substrings are common.
 */
function witnessScore(w: Witness): number {
  let p = 0;
  for (const f of w) {
    if (f.k === 'eq') {
      // Short exact values are enumerations that most events of the logsource carry (EventID,
      // `Initiated: 'true'`, LogonType): as a witness they fired on every network-connection
      // event, making ~20 net_connection rules candidates of each one.
      p += f.s.length < 6 ? 0.3 : 0.01;
      continue;
    }
    const short = f.s.length < 3 ? 10 : f.s.length < 5 ? 3 : 1;
    p += (f.k === 'ct' ? 0.05 : 0.02) * short;
  }
  return p;
}

/** AND: any child's witness is necessary; keep the most selective one. */
function bestWitness(ts: readonly CostedTest[]): Witness | null {
  let best: Witness | null = null;
  let bestScore = Infinity;
  for (const t of ts) {
    if (t.witness === null) continue;
    const score = witnessScore(t.witness);
    if (score < bestScore) {
      best = t.witness;
      bestScore = score;
    }
  }
  return best;
}

/** OR: necessary only when every alternative has a witness; their union. */
function unionWitness(ts: readonly CostedTest[]): Witness | null {
  const out: Fact[] = [];
  for (const t of ts) {
    if (t.witness === null) return null;
    out.push(...t.witness);
  }
  return out;
}

export function andAll(ts: readonly CostedTest[]): CostedTest {
  const sorted = byCost(ts);
  const cost = sorted.reduce((n, t) => n + t.cost, 0);
  const witness = bestWitness(sorted);
  if (sorted.length === 1) return sorted[0]!;
  return { test: allTest(sorted.map((t) => t.test)), cost, witness };
}

/*
 * The combined closures come from factories of their own so that each keeps only its children: one
 * made inline would keep its function's whole scope (the sorted copies, the other case's array).
 */
function allTest(fs: readonly Test[]): Test {
  if (fs.length === 2) {
    const [a, b] = fs as [Test, Test];
    return (v, s) => a(v, s) && b(v, s);
  }
  return (v, s) => {
    for (let i = 0; i < fs.length; i++) if (!fs[i]!(v, s)) return false;
    return true;
  };
}

function someTest(fs: readonly Test[]): Test {
  if (fs.length === 2) {
    const [a, b] = fs as [Test, Test];
    return (v, s) => a(v, s) || b(v, s);
  }
  return (v, s) => {
    for (let i = 0; i < fs.length; i++) if (fs[i]!(v, s)) return true;
    return false;
  };
}

export function anyOf(ts: readonly CostedTest[]): CostedTest {
  const sorted = byCost(ts);
  const cost = sorted.reduce((n, t) => n + t.cost, 0);
  const witness = unionWitness(sorted);
  if (sorted.length === 1) return sorted[0]!;
  return { test: someTest(sorted.map((t) => t.test)), cost, witness };
}

/** NOT: nothing is necessary. */
export function negate(t: CostedTest): CostedTest {
  const f = t.test;
  return { test: (v, s) => !f(v, s), cost: t.cost, witness: null };
}

