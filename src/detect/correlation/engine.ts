/**
 * The correlation engine: base-rule matches in, fired correlation windows out. Pure (no I/O, no
 * timers): the caller passes wall-clock times, and the state is a JSON value (snapshot/restore).
 *
 * Semantics (the spec leaves most of this to the backend; where it does not, it is cited):
 *
 * Groups. The group of an input of rule R is the tuple of its group-by values; the value of group-by
 * field g is `fields[aliases[g][R]]` when g is an alias with an entry for R, else `fields[g]`. An
 * input that lacks a group-by value is ignored for that correlation (counted in `missingGroup`):
 * pySigma's backends group with `stats … by` / terms aggregations, which drop events without the
 * field, and lumping unrelated events into an '' group would raise false positives. A present but
 * empty value is a group like any other. No group-by = one group. Nothing else (host, rule) is part
 * of the key.
 *
 * Time. Event time is ns since the epoch, kept as (ms, ns-within-ms) pairs of numbers. Windows
 * are sliding (the spec: "should not be restricted to boundaries") and inclusive: [t − span, t].
 *
 * Order independence. Per (correlation, group), inputs are buffered (`pending`) and processed in
 * event-time order — ties by the position of the input's rule in `rules`, then fingerprint, host,
 * value — once final: when time ≤ the group's newest event time − lateness, when the group got no
 * input for `lateness` ms of wall clock (`tick`), or at `flush`. The windows that fire, their bounds,
 * values and contributing events are then the same for any arrival order and batching, as long as
 * no input arrives more than `lateness` behind its group's newest event (an input exactly at that
 * bound may tie with an already processed one and be treated as late). With lateness 0 inputs are
 * final on arrival, except that one `push` call's inputs are sorted first.
 *
 * Late input (before the last processed event of its group): counted. Evaluated (`lateAccepted`)
 * when it is not before the group's open window — sliding: after the last fired window's end and
 * not before (last processed − timespan); anchored: not before the open window's start — by
 * inserting it into the window in order and re-running the window (sliding); otherwise dropped
 * (`lateDropped`). Events that already left the window are not brought back, so a late input can
 * give a different result than the same input on time. An input equal to one already seen (same
 * time, rule, fingerprint, host, value) is a duplicate and ignored (`duplicates`).
 *
 * Firing, over the final events in order:
 * - Sliding (event_count, value_count, value_sum, temporal, temporal_ordered with a condition that
 *   has only lower bounds gt/gte, and temporal string conditions): at each event t the window
 *   [t − timespan, t] is checked; the first t where it holds fires the window [earliest event in
 *   it, t], and the events up to t are consumed (the next window only counts later events).
 *   value_sum assumes values ≥ 0 (a sum that is reached does not need to wait for the window end);
 *   negative values are summed all the same.
 * - Anchored (a condition with an upper bound — lt, lte, eq, neq or a range — and always
 *   value_avg, value_percentile, value_median): a window [s, s + timespan] opens at the first
 *   unconsumed event s and is decided when the group's time passes s + timespan (newest − lateness
 *   > s + timespan, or an event after it, or tick/flush finalization); if the condition holds it
 *   fires with bounds [s, s + timespan]; the next window opens at the first event after it.
 *   `tick` closes the window of a group idle for `lateness` once s + timespan is more than
 *   `lateness` behind the group's own clock: its newest event time advanced by the wall-clock time
 *   it has been idle (so skewed host clocks and catch-ups of old logs keep their windows).
 * - value_count: distinct values of condition.field (a tuple when several fields); an input
 *   without all of them is ignored (`missingValue`), like COUNT(DISTINCT) ignores NULLs.
 * - value_sum / value_avg / value_percentile / value_median: values parsed as numbers; inputs
 *   without a numeric value are ignored (`nonNumeric`). Percentiles interpolate linearly between
 *   closest ranks (numpy's default); the median is the 50th percentile; value_percentile without
 *   `percentile` uses 50.
 * - temporal: the value is the number of distinct rules in the window (default condition: all of
 *   them); a string condition is evaluated on the set of rules seen in the window ("not x" = x not
 *   seen in [t − timespan, t]).
 * - temporal_ordered: the value is the length of the longest chain rules[0] ≤ rules[1] ≤ … (event
 *   times, ties by listed order) inside the window; the default condition asks for all of them.
 *   The latest-start chain is kept (dynamic programming over positions), so the window reported
 *   is the tightest one: [start of the latest-starting full chain, t]. With a string condition, a
 *   rule counts as seen when it occurs (greedily, earliest first) after the rules listed before it
 *   that were seen; the expression is evaluated on that set.
 *
 * Chained correlations. An outer correlation references an inner one by id. When the inner fires
 * its output becomes an input of the outer within the same call: ruleId = inner id, time = the
 * inner window's end, fingerprint = the inner output's fingerprint, host = its first host, fields =
 * the inner group (so the outer groups by the inner's group-by names). The returned list has the
 * inner output before the outer's. With lateness > 0 an outer group also waits for the inner
 * groups that feed it: its inputs are final only up to min(its own newest − lateness, each such
 * inner group's newest − lateness), the point up to which that inner group has decided its windows
 * (a group idle for `lateness` of wall clock counts as having reached its newest event time
 * advanced by the wall-clock time it has been idle). So an inner output never arrives behind the outer events it
 * precedes, and chains are order independent like single correlations (for inner groups that
 * already exist; a new inner group's first input is never late by definition). A chained input
 * does not refresh its group's wall-clock idleness, so an idle tick decides inner and outer
 * together.
 *
 * Output. value = count / distinct count / distinct rules (ordered: chain length) / aggregate;
 * contributing = the window's events' fingerprints (first 100, event-time order) and their count;
 * hosts = distinct non-empty hosts (at most 20); fingerprint = sha256 of [rule id (or file:line
 * when the rule has none), sorted group entries, windowStartNs, windowEndNs] as JSON, 32 hex
 * chars. A fingerprint that already fired (the last 10,000 are remembered, also across
 * snapshot/restore) is not returned again.
 *
 * Bounds. maxEventsPerGroup: the oldest buffered events are dropped (`evictedEvents`).
 * maxGroupsPerRule / maxGroups: the least recently updated group is dropped with its events
 * (`evictedGroups`). `evicted` = both. Per event only its time, rule position, fingerprint,
 * host (interned) and value are kept. Idle groups whose window can no longer fire are dropped by
 * `tick`; `flush` decides every window and clears all groups.
 *
 * Robustness. Nothing here throws on bad input: an unknown rule id (or the id of an inner
 * correlation) is ignored, an input whose time is not a non-negative integer string is counted
 * (`invalid`) and ignored, a missing or non-object `fields` counts as no fields; a snapshot that
 * does not parse restores nothing (a group that does not parse is skipped). Options that are not
 * positive numbers fall back to 0 lateness and the example limits.
 */
import { createHash } from 'node:crypto';
import { evalExpression } from './parse.ts';
import type { CorrelationCondition, CorrelationInput, CorrelationOutput, CorrelationRule } from './types.ts';

export interface CorrelatorOptions {
  /** Allowed lateness, e.g. 120_000. */
  readonly latenessMs: number;
  /** e.g. 10_000 */
  readonly maxGroupsPerRule: number;
  /** Global, e.g. 100_000. */
  readonly maxGroups: number;
  /** e.g. 10_000 (oldest dropped, counted). */
  readonly maxEventsPerGroup: number;
}

export interface CorrelatorStats {
  /** Open groups. */
  readonly groups: number;
  /** Events held: pending (not yet final) and in open windows. */
  readonly pendingEvents: number;
  readonly lateDropped: number;
  readonly lateAccepted: number;
  /** evictedGroups + evictedEvents. */
  readonly evicted: number;
  readonly evictedGroups: number;
  readonly evictedEvents: number;
  readonly fired: number;
  /** Inputs with a bad time (or not an input at all). */
  readonly invalid: number;
  /** Inputs without a group-by value. */
  readonly missingGroup: number;
  /** value_count inputs without the value field(s). */
  readonly missingValue: number;
  /** value_sum/avg/percentile/median inputs without a numeric value. */
  readonly nonNumeric: number;
  /** Inputs already seen (same time, rule, fingerprint, host, value). */
  readonly duplicates: number;
}

const MAX_CONTRIBUTING = 100;
const MAX_HOSTS = 20;
const FIRED_MEMORY = 10_000;
const HOST_INTERN_MAX = 50_000;

/** One buffered input: all a window needs of it. */
class Ev {
  ms: number;
  sub: number;
  /** Position (first) of the input's rule in the correlation's `rules`. */
  pos: number;
  fp: string;
  host: string;
  /** value_count: the value (JSON of the tuple for several fields). */
  val: string;
  /** value_sum/avg/percentile/median: the number. */
  num: number;
  constructor(ms: number, sub: number, pos: number, fp: string, host: string, val: string, num: number) {
    this.ms = ms;
    this.sub = sub;
    this.pos = pos;
    this.fp = fp;
    this.host = host;
    this.val = val;
    this.num = num;
  }
}

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const cmpT = (aMs: number, aSub: number, bMs: number, bSub: number) => aMs - bMs || aSub - bSub;
const cmpEv = (a: Ev, b: Ev) => a.ms - b.ms || a.sub - b.sub || a.pos - b.pos || cmpStr(a.fp, b.fp) || cmpStr(a.host, b.host) || cmpStr(a.val, b.val) || a.num - b.num;

function fmtTime(ms: number, sub: number): string {
  return ms === 0 ? String(sub) : `${ms}${String(sub).padStart(6, '0')}`;
}

/** ns decimal string → [ms, sub]; null when not a non-negative integer within range. */
function parseTime(s: unknown): [number, number] | null {
  if (typeof s !== 'string' || !/^\d{1,22}$/.test(s)) return null;
  const n = s.length;
  const ms = n > 6 ? Number(s.slice(0, n - 6)) : 0;
  const sub = Number(n > 6 ? s.slice(n - 6) : s);
  return Number.isSafeInteger(ms) ? [ms, sub] : null;
}

function holds(c: CorrelationCondition, v: number): boolean {
  return (
    (c.gt === undefined || v > c.gt) &&
    (c.gte === undefined || v >= c.gte) &&
    (c.lt === undefined || v < c.lt) &&
    (c.lte === undefined || v <= c.lte) &&
    (c.eq === undefined || v === c.eq) &&
    (c.neq === undefined || v !== c.neq)
  );
}

function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

type Kind = 'count' | 'distinct' | 'sum' | 'avg' | 'pct' | 'temporal' | 'ordered';

/** A correlation at run time. */
interface Rt {
  readonly rule: CorrelationRule;
  readonly idx: number;
  /** Identity in snapshots (id, or file:line) and the part of the rule the state depends on. */
  readonly key: string;
  readonly sig: string;
  readonly kind: Kind;
  readonly sliding: boolean;
  readonly span: number;
  lateness: number;
  /** rule id → first position in `rules`. */
  readonly pos: ReadonlyMap<string, number>;
  /** first position → every position of that rule id (temporal_ordered), descending. */
  readonly positions: readonly (readonly number[])[];
  /** rule id → the event fields of the group-by values / the value fields. */
  readonly groupFields: ReadonlyMap<string, readonly string[]>;
  readonly valueFields: ReadonlyMap<string, readonly string[]>;
  readonly groups: Map<string, Group>;
  /** The correlation's groups, least recently updated first. */
  rHead: Group | null;
  rTail: Group | null;
  /** Indices of the correlations that use this one / that this one uses. */
  readonly outers: number[];
  readonly inners: number[];
  /** Outer correlations: outer group key → the inner groups that feed it. */
  readonly heldBy: Map<string, Set<Group>>;
  wmMs: number;
  wmSub: number;
}

/** State of one (correlation, group). */
class Group {
  readonly rt: number;
  readonly key: string;
  pending: Ev[] = NO_EVENTS;
  /** Processed events of the open window, in order. */
  buf: Ev[] = NO_EVENTS;
  maxMs = -1;
  maxSub = 0;
  /** Last processed event (the finalized frontier). */
  last: Ev | null = null;
  /** End of the last fired (sliding) / decided (anchored) window; −1 = none. */
  conMs = -1;
  conSub = 0;
  /** Anchored: start of the open window; −1 = none. */
  ancMs = -1;
  ancSub = 0;
  /** Wall clock of the last (base) input. */
  wall = 0;
  /** Sliding aggregates over `buf` (null until needed; event_count needs none). */
  agg: Agg | null = null;
  /** Groups of inner correlations: what ties them to their outer groups. */
  inner: Inner | null = null;
  /** Least-recently-updated lists: of the correlation's groups, and of all groups. */
  rPrev: Group | null = null;
  rNext: Group | null = null;
  aPrev: Group | null = null;
  aNext: Group | null = null;
  constructor(rt: number, key: string) {
    this.rt = rt;
    this.key = key;
  }
}

/** Sliding aggregates (only those of the correlation's kind are used). */
class Agg {
  sum = 0;
  /** value_count: value → occurrences. */
  vals: Map<string, number> | null = null;
  /** temporal: occurrences per (first) rule position, and how many are non-zero. */
  counts: number[] | null = null;
  seen = 0;
  /** temporal_ordered: latest start of a chain rules[0..p], per p (−1 = none). */
  bestMs: number[] | null = null;
  bestSub: number[] | null = null;
}

class Inner {
  /** The time the group counts as having reached once idle (−1 = not idle). */
  liftMs = -1;
  liftSub = 0;
  /** The key of the outer group this group feeds, per outer (null: none). */
  outerKeys: (string | null)[];
  constructor(outerKeys: (string | null)[]) {
    this.outerKeys = outerKeys;
  }
}

/** The empty event list every group starts with (frozen: adding goes through `withEv`). */
const NO_EVENTS: Ev[] = Object.freeze([]) as unknown as Ev[];

/** `list` plus `ev` at the end (a new exact-size array when `list` is empty). */
function withEv(list: Ev[], ev: Ev): Ev[] {
  if (list.length === 0) return [ev];
  list.push(ev);
  return list;
}

/** An input after validation, for one or more correlations. */
interface Parsed {
  readonly ruleId: string;
  readonly ms: number;
  readonly sub: number;
  readonly fp: string;
  readonly host: string;
  readonly fields: Readonly<Record<string, string>>;
  /** An inner correlation's output (does not refresh the group's wall-clock idleness). */
  readonly chained: boolean;
}

type Counters = { -readonly [K in Exclude<keyof CorrelatorStats, 'groups' | 'pendingEvents' | 'evicted'>]: number };

type EncodedEv = [number, number, number, string, string, string, number];

export class Correlator {
  readonly #opts: CorrelatorOptions;
  readonly #rts: Rt[];
  /** Correlation indices, inner before outer. */
  readonly #order: number[];
  readonly #byRule = new Map<string, number[]>();
  readonly #corrIds = new Set<string>();
  /** Every group, least recently updated first (a list through Group.aPrev/aNext). */
  #aHead: Group | null = null;
  #aTail: Group | null = null;
  #groupCount = 0;
  readonly #hosts = new Map<string, string>();
  /** Fingerprints of the last FIRED_MEMORY fired windows (a set, and a ring for the order). */
  readonly #fired = new Set<string>();
  #firedRing: string[] = [];
  #firedNext = 0;
  /** Chained inputs produced during the current call, by correlation index. */
  #queue = new Map<number, Parsed[]>();
  /** Outer groups whose inner groups progressed during the current call, by correlation index. */
  #dirty = new Map<number, Set<string>>();
  #c: Counters = { lateDropped: 0, lateAccepted: 0, evictedGroups: 0, evictedEvents: 0, fired: 0, invalid: 0, missingGroup: 0, missingValue: 0, nonNumeric: 0, duplicates: 0 };

  constructor(rules: readonly CorrelationRule[], opts: CorrelatorOptions) {
    const count = (v: number, fallback: number) => (Number.isFinite(v) && v >= 1 ? Math.floor(v) : fallback);
    this.#opts = {
      latenessMs: Number.isFinite(opts.latenessMs) && opts.latenessMs > 0 ? Math.floor(opts.latenessMs) : 0,
      maxGroupsPerRule: count(opts.maxGroupsPerRule, 10_000),
      maxGroups: count(opts.maxGroups, 100_000),
      maxEventsPerGroup: count(opts.maxEventsPerGroup, 10_000),
    };
    this.#rts = rules.map((rule, idx) => makeRt(rule, idx));
    const byId = new Map<string, number>();
    this.#rts.forEach((rt) => {
      const id = rt.rule.info.id;
      if (id && !byId.has(id)) byId.set(id, rt.idx);
      if (id) this.#corrIds.add(id);
    });
    // Dependency order (edges that would close a cycle are ignored: resolveCorrelations refuses cycles).
    const order: number[] = [];
    const state = new Map<number, 'visiting' | 'done'>();
    const visit = (i: number): void => {
      if (state.has(i)) return;
      state.set(i, 'visiting');
      for (const r of new Set(this.#rts[i]!.rule.rules)) {
        const j = byId.get(r);
        if (j === undefined || state.get(j) === 'visiting') continue;
        visit(j);
        if (!this.#rts[j]!.outers.includes(i)) this.#rts[j]!.outers.push(i);
        if (!this.#rts[i]!.inners.includes(j)) this.#rts[i]!.inners.push(j);
      }
      state.set(i, 'done');
      order.push(i);
    };
    this.#rts.forEach((rt) => visit(rt.idx));
    this.#order = order;
    for (const rt of this.#rts) {
      rt.lateness = this.#opts.latenessMs;
      for (const r of rt.pos.keys()) {
        const l = this.#byRule.get(r) ?? [];
        l.push(rt.idx);
        this.#byRule.set(r, l);
      }
    }
  }

  /** Base rule ids that some correlation references (the worker reports their matches). */
  referencedRules(): ReadonlySet<string> {
    return new Set([...this.#byRule.keys()].filter((r) => !this.#corrIds.has(r)));
  }

  /** Base rule ids whose own detections must not be emitted (referenced only by correlations with generate: false). */
  suppressedRules(): ReadonlySet<string> {
    return new Set([...this.#suppressed()].filter((r) => !this.#corrIds.has(r)));
  }

  /** Correlation ids whose own outputs must not be emitted (used only by correlations with generate: false). */
  suppressedCorrelations(): ReadonlySet<string> {
    return new Set([...this.#suppressed()].filter((r) => this.#corrIds.has(r)));
  }

  #suppressed(): Set<string> {
    const out = new Set<string>();
    for (const [r, users] of this.#byRule) if (users.every((i) => !this.#rts[i]!.rule.generate)) out.add(r);
    return out;
  }

  /** The event field names the worker must copy into CorrelationInput.fields for matches of `ruleId`. */
  fieldsFor(ruleId: string): readonly string[] {
    const out = new Set<string>();
    for (const i of this.#byRule.get(ruleId) ?? []) {
      const rt = this.#rts[i]!;
      for (const f of rt.groupFields.get(ruleId) ?? []) out.add(f);
      for (const f of rt.valueFields.get(ruleId) ?? []) out.add(f);
    }
    return [...out];
  }

  get stats(): CorrelatorStats {
    let pendingEvents = 0;
    for (let g = this.#aHead; g; g = g.aNext) pendingEvents += g.pending.length + g.buf.length;
    const c = this.#c;
    return { groups: this.#groupCount, pendingEvents, evicted: c.evictedGroups + c.evictedEvents, ...c };
  }

  /** Feeds matches (any order); returns the correlations that fired. `nowMs` = wall clock, for idle flushing. */
  push(inputs: readonly CorrelationInput[], nowMs: number): CorrelationOutput[] {
    const out: CorrelationOutput[] = [];
    this.#begin();
    for (const inp of inputs) {
      const p = this.#parse(inp);
      if (!p) continue;
      for (const i of this.#byRule.get(p.ruleId) ?? []) this.#enqueue(i, p);
    }
    for (const i of this.#order) this.#feed(this.#rts[i]!, nowMs, out);
    return out;
  }

  /** Wall-clock tick: finalizes groups idle for the lateness (of wall clock). */
  tick(nowMs: number): CorrelationOutput[] {
    const out: CorrelationOutput[] = [];
    this.#begin();
    for (const i of this.#order) {
      const rt = this.#rts[i]!;
      this.#feed(rt, nowMs, out);
      for (const g of [...rt.groups.values()]) {
        const idleMs = nowMs - g.wall;
        if (idleMs < rt.lateness) continue;
        // The time an idle group counts as having reached: its own newest event, its clock advanced by the
        // wall-clock time it has been idle. Not the wall clock itself: a host whose clock is months off, or
        // a catch-up of old logs, would otherwise see every idle group's window closed and its events dropped.
        const [reachedMs, reachedSub] = g.maxMs >= 0 ? [g.maxMs + idleMs, g.maxSub] : [nowMs, 0];
        const beforeMs = reachedMs - rt.lateness;
        this.#finalize(rt, g, true, out);
        if (!rt.sliding && g.ancMs >= 0 && cmpT(g.ancMs + rt.span, g.ancSub, beforeMs, reachedSub) < 0) this.#close(rt, g, out);
        if (g.inner && cmpT(reachedMs, reachedSub, g.inner.liftMs, g.inner.liftSub) > 0) {
          g.inner.liftMs = reachedMs;
          g.inner.liftSub = reachedSub;
          this.#markOuters(rt, g);
        }
        const lastBuf = g.buf[g.buf.length - 1];
        const done = rt.sliding ? !lastBuf || cmpT(lastBuf.ms + rt.span, lastBuf.sub, beforeMs, reachedSub) < 0 : g.ancMs < 0;
        if (done && g.pending.length === 0) this.#drop(rt, g);
      }
    }
    return out;
  }

  /** End of input (eval/hunt): finalize everything; every group is decided and cleared. */
  flush(): CorrelationOutput[] {
    const out: CorrelationOutput[] = [];
    this.#begin();
    for (const i of this.#order) {
      const rt = this.#rts[i]!;
      this.#feed(rt, Number.MAX_SAFE_INTEGER, out);
      for (const g of rt.groups.values()) {
        this.#finalize(rt, g, true, out);
        if (!rt.sliding && g.ancMs >= 0) this.#close(rt, g, out);
        this.#unlink(rt, g);
      }
      rt.groups.clear();
      rt.heldBy.clear();
    }
    return out;
  }

  // ---- input -------------------------------------------------------------------------------

  #begin(): void {
    this.#queue = new Map();
    this.#dirty = new Map();
  }

  #parse(inp: CorrelationInput): Parsed | null {
    if (typeof inp !== 'object' || inp === null || typeof inp.ruleId !== 'string') {
      this.#c.invalid++;
      return null;
    }
    // Unknown rules, and inner correlations (their inputs only come from the inner's own outputs), are not ours.
    if (!this.#byRule.has(inp.ruleId) || this.#corrIds.has(inp.ruleId)) return null;
    const t = parseTime(inp.timeNs);
    if (!t) {
      this.#c.invalid++;
      return null;
    }
    const fields = typeof inp.fields === 'object' && inp.fields !== null ? inp.fields : {};
    return { ruleId: inp.ruleId, ms: t[0], sub: t[1], fp: typeof inp.fingerprint === 'string' ? inp.fingerprint : '', host: this.#intern(typeof inp.host === 'string' ? inp.host : ''), fields, chained: false };
  }

  #intern(host: string): string {
    const h = this.#hosts.get(host);
    if (h !== undefined) return h;
    if (this.#hosts.size >= HOST_INTERN_MAX) this.#hosts.clear();
    this.#hosts.set(host, host);
    return host;
  }

  #enqueue(i: number, p: Parsed): void {
    const l = this.#queue.get(i);
    if (l) l.push(p);
    else this.#queue.set(i, [p]);
  }

  /** Ingests the queued inputs of one correlation, then processes what became final (also in groups whose inner groups progressed). */
  #feed(rt: Rt, nowMs: number, out: CorrelationOutput[]): void {
    const inputs = this.#queue.get(rt.idx);
    const dirty = this.#dirty.get(rt.idx);
    if (!inputs && !dirty) return;
    this.#queue.delete(rt.idx);
    this.#dirty.delete(rt.idx);
    const touched = new Set<Group>();
    for (const p of inputs ?? []) this.#ingest(rt, p, nowMs, touched, out);
    for (const k of dirty ?? []) {
      const g = rt.groups.get(k);
      if (g) touched.add(g);
    }
    for (const g of touched) {
      if (rt.groups.get(g.key) !== g) continue; // evicted meanwhile
      this.#finalize(rt, g, false, out);
      if (!rt.sliding && g.ancMs >= 0) {
        const [hMs, hSub] = this.#horizon(rt, g);
        if (cmpT(g.ancMs + rt.span, g.ancSub, hMs, hSub) < 0) this.#close(rt, g, out);
      }
      if (rt.outers.length > 0) this.#markOuters(rt, g);
    }
  }

  /**
   * Up to where a group's inputs are final: its newest event − lateness, and for an outer
   * correlation (lateness > 0) no further than its inner groups have decided.
   */
  #horizon(rt: Rt, g: Group): [number, number] {
    let hMs = g.maxMs - rt.lateness;
    let hSub = g.maxSub;
    if (rt.lateness > 0 && rt.inners.length > 0) {
      for (const ig of rt.heldBy.get(g.key) ?? []) {
        const lift = ig.inner!;
        const lifted = cmpT(lift.liftMs, lift.liftSub, ig.maxMs, ig.maxSub) > 0;
        const fMs = (lifted ? lift.liftMs : ig.maxMs) - this.#rts[ig.rt]!.lateness;
        const fSub = lifted ? lift.liftSub : ig.maxSub;
        if (cmpT(fMs, fSub, hMs, hSub) < 0) {
          hMs = fMs;
          hSub = fSub;
        }
      }
    }
    return [hMs, hSub];
  }

  /** An inner group progressed: its outer groups may have more final inputs. */
  #markOuters(rt: Rt, g: Group): void {
    if (!g.inner) return;
    const keys = g.inner.outerKeys;
    rt.outers.forEach((o, k) => {
      const key = keys[k];
      if (key === null || key === undefined) return;
      const set = this.#dirty.get(o);
      if (set) set.add(key);
      else this.#dirty.set(o, new Set([key]));
    });
  }

  /** Registers a new group of an inner correlation with the outer groups it feeds. */
  #register(rt: Rt, g: Group): void {
    if (rt.outers.length === 0) return;
    const values = decodeKey(rt, g.key);
    const group: Record<string, string> = {};
    rt.rule.groupBy.forEach((f, i) => (group[f] = values[i] ?? ''));
    g.inner = new Inner(rt.outers.map((o) => {
      const ort = this.#rts[o]!;
      const fields = ort.groupFields.get(rt.rule.info.id);
      if (!fields) return null;
      const vs: string[] = [];
      for (const f of fields) {
        const v = group[f];
        if (v === undefined) return null;
        vs.push(v);
      }
      const key = encodeKey(vs);
      const set = ort.heldBy.get(key);
      if (set) set.add(g);
      else ort.heldBy.set(key, new Set([g]));
      return key;
    }));
  }

  #ingest(rt: Rt, p: Parsed, nowMs: number, touched: Set<Group>, out: CorrelationOutput[]): void {
    const pos = rt.pos.get(p.ruleId);
    if (pos === undefined) return;
    const gf = rt.groupFields.get(p.ruleId)!;
    let key = '';
    if (gf.length === 1) {
      const v = p.fields[gf[0]!];
      if (typeof v !== 'string') {
        this.#c.missingGroup++;
        return;
      }
      key = v;
    } else if (gf.length > 1) {
      const values: string[] = [];
      for (const f of gf) {
        const v = p.fields[f];
        if (typeof v !== 'string') {
          this.#c.missingGroup++;
          return;
        }
        values.push(v);
      }
      key = encodeKey(values);
    }
    let val = '';
    let num = 0;
    if (rt.kind === 'distinct') {
      const vs: string[] = [];
      for (const f of rt.valueFields.get(p.ruleId)!) {
        const v = p.fields[f];
        if (typeof v !== 'string') {
          this.#c.missingValue++;
          return;
        }
        vs.push(v);
      }
      val = vs.length === 1 ? vs[0]! : JSON.stringify(vs);
    } else if (rt.kind === 'sum' || rt.kind === 'avg' || rt.kind === 'pct') {
      const v = p.fields[rt.valueFields.get(p.ruleId)![0]!];
      num = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(num)) {
        this.#c.nonNumeric++;
        return;
      }
    }
    let g = rt.groups.get(key);
    if (!g) {
      this.#makeRoom(rt);
      g = new Group(rt.idx, key);
      g.wall = nowMs;
      rt.groups.set(key, g);
      this.#link(rt, g);
      this.#register(rt, g);
    } else if (g !== rt.rTail || g !== this.#aTail) {
      this.#unlink(rt, g);
      this.#link(rt, g);
    }
    if (!p.chained) g.wall = nowMs;
    if (cmpT(p.ms, p.sub, rt.wmMs, rt.wmSub) > 0) {
      rt.wmMs = p.ms;
      rt.wmSub = p.sub;
    }
    const ev = new Ev(p.ms, p.sub, pos, p.fp, p.host, val, num);
    if (g.last && cmpEv(ev, g.last) <= 0) {
      if (cmpEv(ev, g.last) === 0 || g.buf.some((e) => cmpEv(e, ev) === 0)) this.#c.duplicates++;
      else this.#late(rt, g, ev, out);
    } else {
      g.pending = withEv(g.pending, ev);
      if (cmpT(ev.ms, ev.sub, g.maxMs, g.maxSub) > 0) {
        g.maxMs = ev.ms;
        g.maxSub = ev.sub;
      }
      touched.add(g);
    }
    this.#cap(rt, g);
  }

  /** Appends a group to both least-recently-updated lists (as the most recent). */
  #link(rt: Rt, g: Group): void {
    g.rPrev = rt.rTail;
    g.rNext = null;
    if (rt.rTail) rt.rTail.rNext = g;
    else rt.rHead = g;
    rt.rTail = g;
    g.aPrev = this.#aTail;
    g.aNext = null;
    if (this.#aTail) this.#aTail.aNext = g;
    else this.#aHead = g;
    this.#aTail = g;
    this.#groupCount++;
  }

  #unlink(rt: Rt, g: Group): void {
    if (g.rPrev) g.rPrev.rNext = g.rNext;
    else rt.rHead = g.rNext;
    if (g.rNext) g.rNext.rPrev = g.rPrev;
    else rt.rTail = g.rPrev;
    if (g.aPrev) g.aPrev.aNext = g.aNext;
    else this.#aHead = g.aNext;
    if (g.aNext) g.aNext.aPrev = g.aPrev;
    else this.#aTail = g.aPrev;
    g.rPrev = g.rNext = g.aPrev = g.aNext = null;
    this.#groupCount--;
  }

  #groupsInOrder(): Group[] {
    const out: Group[] = [];
    for (let g = this.#aHead; g; g = g.aNext) out.push(g);
    return out;
  }

  /** Makes room for a new group of `rt` (least recently updated first). */
  #makeRoom(rt: Rt): void {
    while (rt.rHead && rt.groups.size >= this.#opts.maxGroupsPerRule) this.#evict(rt.rHead);
    while (this.#aHead && this.#groupCount >= this.#opts.maxGroups) this.#evict(this.#aHead);
  }

  #evict(g: Group): void {
    this.#drop(this.#rts[g.rt]!, g);
    this.#c.evictedGroups++;
  }

  #drop(rt: Rt, g: Group): void {
    rt.groups.delete(g.key);
    this.#unlink(rt, g);
    if (g.inner) {
      const keys = g.inner.outerKeys;
      rt.outers.forEach((o, k) => {
        const key = keys[k];
        if (key === null || key === undefined) return;
        const ort = this.#rts[o]!;
        const set = ort.heldBy.get(key);
        set?.delete(g);
        if (set?.size === 0) ort.heldBy.delete(key);
      });
      this.#markOuters(rt, g);
    }
  }

  /** maxEventsPerGroup: drops the oldest buffered events. */
  #cap(rt: Rt, g: Group): void {
    const max = this.#opts.maxEventsPerGroup;
    if (g.pending.length + g.buf.length <= max) return;
    if (g.pending.length > 1 && g.buf.length < g.pending.length + g.buf.length - max) g.pending.sort(cmpEv);
    while (g.pending.length + g.buf.length > max) {
      if (g.buf.length > 0) {
        const e = g.buf.shift()!;
        if (rt.sliding) this.#aggRemove(rt, g, e);
      } else g.pending.shift();
      this.#c.evictedEvents++;
    }
  }

  #late(rt: Rt, g: Group, ev: Ev, out: CorrelationOutput[]): void {
    if (rt.sliding) {
      const last = g.last!;
      const afterFired = g.conMs < 0 || cmpT(ev.ms, ev.sub, g.conMs, g.conSub) > 0;
      if (afterFired && cmpT(ev.ms, ev.sub, last.ms - rt.span, last.sub) >= 0) {
        this.#c.lateAccepted++;
        const evs = insertSorted(g.buf, ev);
        // Re-run the open window with the late event in its place.
        g.agg = null;
        g.buf = NO_EVENTS;
        for (const e of evs) this.#slide(rt, g, e, out);
        return;
      }
    } else if (g.ancMs >= 0 && cmpT(ev.ms, ev.sub, g.ancMs, g.ancSub) >= 0) {
      this.#c.lateAccepted++;
      g.buf = insertSorted(g.buf, ev);
      return;
    }
    this.#c.lateDropped++;
  }

  // ---- processing --------------------------------------------------------------------------

  /** Processes the final pending events (all of them when `all`) in order. */
  #finalize(rt: Rt, g: Group, all: boolean, out: CorrelationOutput[]): void {
    const pending = g.pending;
    if (pending.length === 0) return;
    for (let k = 1; k < pending.length; k++) {
      if (cmpEv(pending[k - 1]!, pending[k]!) > 0) {
        pending.sort(cmpEv);
        break;
      }
    }
    const [hMs, hSub] = this.#horizon(rt, g);
    if (!all && cmpT(pending[0]!.ms, pending[0]!.sub, hMs, hSub) > 0) return;
    let i = 0;
    for (; i < pending.length; i++) {
      const ev = pending[i]!;
      if (!all && cmpT(ev.ms, ev.sub, hMs, hSub) > 0) break;
      if (g.last && cmpEv(ev, g.last) === 0) {
        this.#c.duplicates++;
        continue;
      }
      g.last = ev;
      if (rt.sliding) this.#slide(rt, g, ev, out);
      else this.#anchored(rt, g, ev, out);
    }
    g.pending = i === pending.length ? NO_EVENTS : pending.slice(i);
  }

  #aggAdd(rt: Rt, g: Group, e: Ev): void {
    if (rt.kind === 'count') return;
    const a = (g.agg ??= new Agg());
    switch (rt.kind) {
      case 'distinct':
        a.vals ??= new Map();
        a.vals.set(e.val, (a.vals.get(e.val) ?? 0) + 1);
        break;
      case 'sum':
        a.sum += e.num;
        break;
      case 'temporal': {
        a.counts ??= new Array<number>(rt.rule.rules.length).fill(0);
        if (a.counts[e.pos]!++ === 0) a.seen++;
        break;
      }
      case 'ordered': {
        const n = rt.rule.rules.length;
        a.bestMs ??= new Array<number>(n).fill(-1);
        a.bestSub ??= new Array<number>(n).fill(0);
        const bm = a.bestMs;
        const bs = a.bestSub;
        // Latest start of a chain rules[0..p] ending at this event (positions descending, so one event fills one position).
        for (const p of rt.positions[e.pos]!) {
          if (p === 0) {
            bm[0] = e.ms;
            bs[0] = e.sub;
          } else if (bm[p - 1]! >= 0 && cmpT(bm[p - 1]!, bs[p - 1]!, bm[p]!, bs[p]!) > 0) {
            bm[p] = bm[p - 1]!;
            bs[p] = bs[p - 1]!;
          }
        }
        break;
      }
      default:
    }
  }

  #aggRemove(rt: Rt, g: Group, e: Ev): void {
    const a = g.agg;
    if (!a) return;
    switch (rt.kind) {
      case 'distinct': {
        const n = (a.vals?.get(e.val) ?? 1) - 1;
        if (n <= 0) a.vals?.delete(e.val);
        else a.vals!.set(e.val, n);
        break;
      }
      case 'sum':
        a.sum = g.buf.length === 0 ? 0 : a.sum - e.num;
        break;
      case 'temporal':
        if (a.counts && a.counts[e.pos]! > 0 && --a.counts[e.pos]! === 0) a.seen--;
        break;
      default: // ordered: stale chain starts fail the window check
    }
  }

  /** Sliding window: add, trim to [t − span, t], check, fire and consume. */
  #slide(rt: Rt, g: Group, ev: Ev, out: CorrelationOutput[]): void {
    g.buf = withEv(g.buf, ev);
    this.#aggAdd(rt, g, ev);
    const loMs = ev.ms - rt.span;
    const loSub = ev.sub;
    while (g.buf.length > 0 && cmpT(g.buf[0]!.ms, g.buf[0]!.sub, loMs, loSub) < 0) this.#aggRemove(rt, g, g.buf.shift()!);
    const rule = rt.rule;
    const a = g.agg;
    let value: number;
    let fire: boolean;
    let startIdx = 0;
    switch (rt.kind) {
      case 'count':
        value = g.buf.length;
        fire = holds(rule.condition, value);
        break;
      case 'distinct':
        value = a?.vals?.size ?? 0;
        fire = holds(rule.condition, value);
        break;
      case 'sum':
        value = a?.sum ?? 0;
        fire = holds(rule.condition, value);
        break;
      case 'temporal':
        value = a?.seen ?? 0;
        fire = rule.expression ? evalExpression(rule.expression, (id) => (a?.counts?.[rt.pos.get(id) ?? -1] ?? 0) > 0) : holds(rule.condition, value);
        break;
      case 'ordered': {
        if (rule.expression) {
          const seen = orderedSeen(rt, g.buf);
          value = seen.size;
          fire = evalExpression(rule.expression, (id) => seen.has(rt.pos.get(id) ?? -1));
          break;
        }
        const bm = a!.bestMs!;
        const bs = a!.bestSub!;
        let m = 0;
        while (m < bm.length && bm[m]! >= 0 && cmpT(bm[m]!, bs[m]!, loMs, loSub) >= 0) m++;
        value = m;
        fire = holds(rule.condition, value);
        if (fire && m > 0) {
          const sMs = bm[m - 1]!;
          const sSub = bs[m - 1]!;
          while (startIdx < g.buf.length - 1 && cmpT(g.buf[startIdx]!.ms, g.buf[startIdx]!.sub, sMs, sSub) < 0) startIdx++;
        } else if (fire) startIdx = g.buf.length - 1;
        break;
      }
      default:
        return; // avg/pct are never sliding
    }
    if (!fire) return;
    const evs = startIdx === 0 ? g.buf : g.buf.slice(startIdx);
    const first = evs[0]!;
    this.#emit(rt, g, first.ms, first.sub, ev.ms, ev.sub, evs, value, out);
    g.buf = NO_EVENTS;
    g.agg = null;
    g.conMs = ev.ms;
    g.conSub = ev.sub;
  }

  /** Anchored window [s, s + span]: close the open one when this event is past it, then add. */
  #anchored(rt: Rt, g: Group, ev: Ev, out: CorrelationOutput[]): void {
    if (g.ancMs >= 0 && cmpT(ev.ms, ev.sub, g.ancMs + rt.span, g.ancSub) > 0) this.#close(rt, g, out);
    if (g.ancMs < 0) {
      g.ancMs = ev.ms;
      g.ancSub = ev.sub;
    }
    g.buf = withEv(g.buf, ev);
  }

  /** Decides the open anchored window. */
  #close(rt: Rt, g: Group, out: CorrelationOutput[]): void {
    const evs = g.buf;
    const rule = rt.rule;
    let value: number;
    switch (rt.kind) {
      case 'count':
        value = evs.length;
        break;
      case 'distinct':
        value = new Set(evs.map((e) => e.val)).size;
        break;
      case 'sum':
        value = evs.reduce((s, e) => s + e.num, 0);
        break;
      case 'avg':
        value = evs.reduce((s, e) => s + e.num, 0) / evs.length;
        break;
      case 'pct':
        value = percentileOf(
          evs.map((e) => e.num).sort((a, b) => a - b),
          rule.percentile ?? 50,
        );
        break;
      case 'temporal':
        value = new Set(evs.map((e) => e.pos)).size;
        break;
      default:
        value = orderedChain(rt, evs);
    }
    const endMs = g.ancMs + rt.span;
    if (evs.length > 0 && holds(rule.condition, value)) this.#emit(rt, g, g.ancMs, g.ancSub, endMs, g.ancSub, evs, value, out);
    g.conMs = endMs;
    g.conSub = g.ancSub;
    g.ancMs = -1;
    g.ancSub = 0;
    g.buf = NO_EVENTS;
  }

  #emit(rt: Rt, g: Group, sMs: number, sSub: number, eMs: number, eSub: number, evs: readonly Ev[], value: number, out: CorrelationOutput[]): void {
    const rule = rt.rule;
    const values = decodeKey(rt, g.key);
    const group: Record<string, string> = {};
    rule.groupBy.forEach((f, i) => (group[f] = values[i] ?? ''));
    const windowStartNs = fmtTime(sMs, sSub);
    const windowEndNs = fmtTime(eMs, eSub);
    const sortedGroup = Object.entries(group).sort((a, b) => cmpStr(a[0], b[0]));
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([rule.info.id || `${rule.info.file}:${rule.line}`, sortedGroup, windowStartNs, windowEndNs]))
      .digest('hex')
      .slice(0, 32);
    if (this.#fired.has(fingerprint)) return;
    this.#remember(fingerprint);
    const hosts: string[] = [];
    for (const e of evs) {
      if (hosts.length >= MAX_HOSTS) break;
      if (e.host && !hosts.includes(e.host)) hosts.push(e.host);
    }
    const o: CorrelationOutput = {
      rule,
      group,
      windowStartNs,
      windowEndNs,
      value,
      contributing: evs.slice(0, MAX_CONTRIBUTING).map((e) => e.fp),
      contributingCount: evs.length,
      hosts,
      fingerprint,
    };
    out.push(o);
    this.#c.fired++;
    if (rule.info.id) {
      for (const i of rt.outers) this.#enqueue(i, { ruleId: rule.info.id, ms: eMs, sub: eSub, fp: fingerprint, host: hosts[0] ?? '', fields: group, chained: true });
    }
  }

  #remember(fingerprint: string): void {
    if (this.#fired.has(fingerprint)) return;
    if (this.#firedRing.length < FIRED_MEMORY) this.#firedRing.push(fingerprint);
    else {
      this.#fired.delete(this.#firedRing[this.#firedNext]!);
      this.#firedRing[this.#firedNext] = fingerprint;
      this.#firedNext = (this.#firedNext + 1) % FIRED_MEMORY;
    }
    this.#fired.add(fingerprint);
  }

  // ---- snapshot ----------------------------------------------------------------------------

  /** JSON-serializable state: open windows, pending events, fired windows, watermarks, counters. */
  snapshot(): unknown {
    const enc = (e: Ev): EncodedEv => [e.ms, e.sub, e.pos, e.fp, e.host, e.val, e.num];
    return {
      v: 1,
      rules: this.#rts.map((rt) => ({ key: rt.key, sig: rt.sig, wm: [rt.wmMs, rt.wmSub] })),
      groups: this.#groupsInOrder().map((g) => {
        const rt = this.#rts[g.rt]!;
        return {
          r: rt.key,
          k: g.key,
          p: g.pending.map(enc),
          b: g.buf.map(enc),
          mx: [g.maxMs, g.maxSub],
          l: g.last ? enc(g.last) : null,
          c: [g.conMs, g.conSub],
          a: [g.ancMs, g.ancSub],
          w: g.wall,
          s: g.agg?.sum ?? 0,
          lf: g.inner ? [g.inner.liftMs, g.inner.liftSub] : null,
        };
      }),
      fired: [...this.#firedRing.slice(this.#firedNext), ...this.#firedRing.slice(0, this.#firedNext)],
      counters: { ...this.#c },
    };
  }

  /** Restores a snapshot taken with the same (or a compatible) rule set; state of rules no longer present (or changed) is dropped. */
  restore(state: unknown): void {
    for (const rt of this.#rts) {
      rt.groups.clear();
      rt.heldBy.clear();
      rt.rHead = rt.rTail = null;
      rt.wmMs = -1;
      rt.wmSub = 0;
    }
    this.#aHead = this.#aTail = null;
    this.#groupCount = 0;
    this.#fired.clear();
    this.#firedRing = [];
    this.#firedNext = 0;
    if (typeof state !== 'object' || state === null) return;
    const s = state as Record<string, unknown>;
    if (s['v'] !== 1) return;
    const byKey = new Map<string, Rt>();
    if (Array.isArray(s['rules'])) {
      const mine = new Map(this.#rts.map((rt) => [rt.key, rt]));
      for (const r of s['rules'] as unknown[]) {
        const o = r as { key?: unknown; sig?: unknown; wm?: unknown } | null;
        const rt = typeof o?.key === 'string' ? mine.get(o.key) : undefined;
        if (!rt || o?.sig !== rt.sig) continue;
        byKey.set(rt.key, rt);
        const wm = numPair(o.wm);
        if (wm) {
          rt.wmMs = wm[0];
          rt.wmSub = wm[1];
        }
      }
    }
    const dec = (x: unknown, rt: Rt): Ev | null => {
      if (!Array.isArray(x) || x.length !== 7) return null;
      const [ms, sub, pos, fp, host, val, num] = x as unknown[];
      if (!isInt(ms) || !isInt(sub) || !isInt(pos) || pos >= rt.rule.rules.length || typeof fp !== 'string' || typeof host !== 'string' || typeof val !== 'string' || typeof num !== 'number') return null;
      return new Ev(ms, sub, pos, fp, this.#intern(host), val, num);
    };
    const decList = (x: unknown, rt: Rt): Ev[] | null => {
      if (!Array.isArray(x)) return null;
      const evs = x.map((e) => dec(e, rt));
      return evs.every((e): e is Ev => e !== null) ? evs : null;
    };
    for (const x of Array.isArray(s['groups']) ? (s['groups'] as unknown[]) : []) {
      const o = x as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null) continue;
      const rt = typeof o['r'] === 'string' ? byKey.get(o['r']) : undefined;
      const key = o['k'];
      if (!rt || typeof key !== 'string' || rt.groups.has(key) || !validKey(rt, key)) continue;
      const pending = decList(o['p'], rt);
      const buf = decList(o['b'], rt);
      const mx = numPair(o['mx']);
      const con = numPair(o['c']);
      const anc = numPair(o['a']);
      const last = o['l'] === null ? null : dec(o['l'], rt);
      if (!pending || !buf || !mx || !con || !anc || (o['l'] !== null && !last) || typeof o['w'] !== 'number') continue;
      const g = new Group(rt.idx, key);
      g.pending = pending;
      g.maxMs = mx[0];
      g.maxSub = mx[1];
      g.last = last;
      g.conMs = con[0];
      g.conSub = con[1];
      g.ancMs = anc[0];
      g.ancSub = anc[1];
      g.wall = o['w'];
      if (rt.sliding) for (const e of buf) this.#aggAdd(rt, g, e);
      g.buf = buf;
      if (g.agg && typeof o['s'] === 'number') g.agg.sum = o['s'];
      this.#makeRoom(rt);
      rt.groups.set(key, g);
      this.#link(rt, g);
      this.#register(rt, g);
      const lift = numPair(o['lf']);
      if (lift && g.inner) {
        g.inner.liftMs = lift[0];
        g.inner.liftSub = lift[1];
      }
    }
    if (Array.isArray(s['fired'])) for (const f of s['fired'] as unknown[]) if (typeof f === 'string') this.#remember(f);
    const counters = s['counters'];
    if (typeof counters === 'object' && counters !== null) {
      for (const k of Object.keys(this.#c) as (keyof Counters)[]) {
        const v = (counters as Record<string, unknown>)[k];
        if (isInt(v)) this.#c[k] = v;
      }
    }
  }
}

/** A group key: '' without group-by, the value itself for one field, JSON of the tuple for several. */
function encodeKey(values: readonly string[]): string {
  return values.length === 0 ? '' : values.length === 1 ? values[0]! : JSON.stringify(values);
}

function decodeKey(rt: Rt, key: string): string[] {
  const n = rt.rule.groupBy.length;
  return n === 0 ? [] : n === 1 ? [key] : (JSON.parse(key) as string[]);
}

function validKey(rt: Rt, key: string): boolean {
  if (rt.rule.groupBy.length < 2) return rt.rule.groupBy.length === 1 || key === '';
  try {
    const v = JSON.parse(key) as unknown;
    return Array.isArray(v) && v.length === rt.rule.groupBy.length && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

function numPair(x: unknown): [number, number] | null {
  return Array.isArray(x) && x.length === 2 && isInt(x[0]) && isInt(x[1]) ? [x[0], x[1]] : null;
}

/** `buf` with `ev` inserted in order. */
function insertSorted(buf: Ev[], ev: Ev): Ev[] {
  if (buf.length === 0) return [ev];
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmpEv(buf[mid]!, ev) <= 0) lo = mid + 1;
    else hi = mid;
  }
  buf.splice(lo, 0, ev);
  return buf;
}

/** Length of the longest ordered chain rules[0] ≤ rules[1] ≤ … among `evs` (in order). */
function orderedChain(rt: Rt, evs: readonly Ev[]): number {
  const n = rt.rule.rules.length;
  const reach = new Array<boolean>(n).fill(false);
  for (const e of evs) {
    for (const p of rt.positions[e.pos]!) if (p === 0 || reach[p - 1]) reach[p] = true;
  }
  let m = 0;
  while (m < n && reach[m]) m++;
  return m;
}

/**
 * temporal_ordered with a string condition: the first positions of the rules seen in order —
 * each rule (in listed order) matched greedily at its earliest event after the rules before it
 * that were seen.
 */
function orderedSeen(rt: Rt, evs: readonly Ev[]): Set<number> {
  const seen = new Set<number>();
  let from = 0;
  const rules = rt.rule.rules;
  for (let p = 0; p < rules.length; p++) {
    const first = rt.pos.get(rules[p]!)!;
    for (let i = from; i < evs.length; i++) {
      if (evs[i]!.pos === first) {
        seen.add(first);
        from = i + 1;
        break;
      }
    }
  }
  return seen;
}

function makeRt(rule: CorrelationRule, idx: number): Rt {
  const c = rule.condition;
  const upper = c.lt !== undefined || c.lte !== undefined || c.eq !== undefined || c.neq !== undefined;
  const kind: Kind =
    rule.type === 'event_count'
      ? 'count'
      : rule.type === 'value_count'
        ? 'distinct'
        : rule.type === 'value_sum'
          ? 'sum'
          : rule.type === 'value_avg'
            ? 'avg'
            : rule.type === 'value_percentile' || rule.type === 'value_median'
              ? 'pct'
              : rule.type === 'temporal'
                ? 'temporal'
                : 'ordered';
  const sliding = rule.expression !== undefined || (!upper && kind !== 'avg' && kind !== 'pct');
  const pos = new Map<string, number>();
  rule.rules.forEach((r, i) => {
    if (!pos.has(r)) pos.set(r, i);
  });
  const positions: number[][] = rule.rules.map(() => []);
  rule.rules.forEach((r, i) => positions[pos.get(r)!]!.push(i));
  for (const l of positions) l.reverse();
  const resolve = (f: string, r: string) => rule.aliases[f]?.[r] ?? f;
  const groupFields = new Map<string, string[]>();
  const valueFields = new Map<string, string[]>();
  for (const r of pos.keys()) {
    groupFields.set(
      r,
      rule.groupBy.map((g) => resolve(g, r)),
    );
    valueFields.set(
      r,
      rule.valueFields.map((f) => resolve(f, r)),
    );
  }
  const sig = JSON.stringify([rule.type, rule.rules, rule.groupBy, rule.aliases, rule.timespanMs, rule.valueFields, sliding]);
  return {
    rule,
    idx,
    key: rule.info.id || `${rule.info.file}:${rule.line}`,
    sig,
    kind,
    sliding,
    span: rule.timespanMs,
    lateness: 0,
    pos,
    positions,
    groupFields,
    valueFields,
    groups: new Map(),
    rHead: null,
    rTail: null,
    outers: [],
    inners: [],
    heldBy: new Map(),
    wmMs: -1,
    wmSub: 0,
  };
}
