/**
 * The compiled ruleset at run time: logsource routing and per-event evaluation.
 *
 * Routing: every mapping variant a rule can be seen through (plus the fallback variant for
 * unmapped logsources) becomes a route holding its rules, each with a slot table that applies
 * the variant's field renames. Routes are indexed by the value of one of their `when` keys
 * (EventID first, then Channel, then @source, …), so an event costs one map lookup per index
 * key and only meets the rules of its own logsource. A rule reachable through several routes is
 * reported once per event (a stamp per rule, no per-event set).
 *
 * Coverage: each route carries the counter of its logsource (labelled by `routeLabel`); an event that
 * passes a route's `when` bumps it once (a stamp again), and `takeRouted()` hands the counts over.
 */
import type { LogsourceMapping, LogsourceVariant, SigmaEvent } from '../../map/types.ts';
import type { Detector, RuleInfo, RuleMatch } from '../types.ts';
import { EventView, FieldSlots, toFieldString, type FieldString } from './event-view.ts';
import { RoutePrefilter } from './prefilter.ts';
import { KeywordIndex } from './keywords.ts';
import { SubstringCache } from './automata.ts';
import type { KeywordProbe, Test, Witness } from './combine.ts';

/** A rule ready to run: metadata, its field names (rule-local numbering) and its test. */
export interface CompiledRule {
  readonly info: RuleInfo;
  readonly fields: readonly string[];
  readonly test: Test;
  readonly probes: readonly KeywordProbe[];
  /** Facts one of which holds whenever the rule matches (null: none known, always evaluated). */
  readonly witness: Witness | null;
}

export interface DetectorOptions {
  /** Use the candidate index (default). false evaluates every routed rule: same results, slower. */
  readonly prefilter?: boolean;
  /** Time every rule test (for `rules check --profile`); costs two clock reads per evaluation. */
  readonly profile?: boolean;
  /** The counter key of a variant's logsource (see takeRouted); unlabelled routes are not counted. */
  readonly routeLabel?: (variant: LogsourceVariant) => string | undefined;
}

/** Events routed to one logsource's rules since the last takeRouted(). */
interface RouteCounter {
  readonly key: string;
  /** Evaluation stamp of the last event counted (an event through two variants of one logsource counts once). */
  stamp: number;
  events: number;
}

/** What one rule cost over the events evaluated so far (profile mode). */
export interface RuleCost {
  readonly rule: RuleInfo;
  /** Times the rule was a candidate and its test ran. */
  readonly evaluations: number;
  readonly matches: number;
  /** Total time in the rule's test, ms. */
  readonly ms: number;
}

interface RuleState {
  readonly rule: CompiledRule;
  /** Evaluation stamp of the last event the rule matched (dedup across routes). */
  stamp: number;
  /** Profile mode only. */
  evaluations: number;
  matches: number;
  ms: number;
}

interface RouteRule {
  readonly state: RuleState;
  readonly slots: Int32Array;
}

interface Predicate {
  /** `@name` keys read event.meta.<name>; others read a field slot. */
  readonly meta: string | null;
  readonly slot: number;
  readonly values: ReadonlySet<string>;
}

interface Route {
  readonly when: readonly Predicate[];
  readonly rules: RouteRule[];
  stamp: number;
  prefilter: RoutePrefilter | null;
  readonly counter: RouteCounter | null;
}

interface RouteIndex {
  readonly key: Predicate;
  readonly byValue: Map<string, Route[]>;
}

/** Preference for the index key of a route: the most selective keys first. */
const INDEX_KEYS = ['EventID', 'Channel', '@source', '@service', '@product'];

export class SigmaDetector implements Detector {
  readonly ruleCount: number;
  /** Rule evaluations that threw (the rule is skipped for that event). */
  evalErrors = 0;
  /** Rule tests run (candidates after routing and the prefilter), for metrics and tuning. */
  ruleEvaluations = 0;
  readonly #view: EventView;
  readonly #indexes: RouteIndex[];
  readonly #unindexed: Route[];
  readonly #routes: Route[];
  readonly #states: RuleState[] = [];
  readonly #profile: boolean;
  readonly #keywords = new KeywordIndex();
  readonly #counters: RouteCounter[];
  /** Counters bumped since the last takeRouted() (each once). */
  readonly #touched: RouteCounter[] = [];
  #stamp = 0;

  constructor(placed: readonly { rule: CompiledRule; variants: readonly LogsourceVariant[] }[], opts: DetectorOptions = {}) {
    const slots = new FieldSlots();
    const routes = new Map<LogsourceVariant, Route>();
    const counters = new Map<string, RouteCounter>();
    const counterFor = (variant: LogsourceVariant): RouteCounter | null => {
      const key = opts.routeLabel?.(variant);
      if (key === undefined) return null;
      let c = counters.get(key);
      if (c === undefined) counters.set(key, (c = { key, stamp: 0, events: 0 }));
      return c;
    };
    const predicateFor = (key: string, values: readonly (string | number)[]): Predicate => ({
      meta: key.startsWith('@') ? key.slice(1) : null,
      slot: key.startsWith('@') ? -1 : slots.slot(key),
      values: new Set(values.map((v) => String(v).toLowerCase())),
    });
    for (const { rule, variants } of placed) {
      const state: RuleState = { rule, stamp: 0, evaluations: 0, matches: 0, ms: 0 };
      this.#states.push(state);
      for (const variant of variants) {
        let route = routes.get(variant);
        if (!route) {
          route = { when: Object.entries(variant.when).map(([k, vs]) => predicateFor(k, vs)), rules: [], stamp: 0, prefilter: null, counter: counterFor(variant) };
          routes.set(variant, route);
        }
        const rename = variant.rename ?? {};
        route.rules.push({ state, slots: Int32Array.from(rule.fields, (f) => slots.slot(rename[f] ?? f)) });
      }
    }
    this.ruleCount = placed.length;
    this.#counters = [...counters.values()];
    this.#profile = opts.profile === true;
    if (opts.prefilter !== false) {
      const cache = new SubstringCache();
      for (const route of routes.values()) route.prefilter = new RoutePrefilter(route.rules.map((r) => ({ witness: r.state.rule.witness, slots: r.slots })), this.#keywords, cache);
    }

    const indexes = new Map<string, RouteIndex>();
    this.#unindexed = [];
    for (const [variant, route] of routes) {
      const keys = Object.keys(variant.when);
      const key = INDEX_KEYS.find((k) => keys.includes(k)) ?? keys[0];
      if (key === undefined) {
        this.#unindexed.push(route);
        continue;
      }
      let idx = indexes.get(key);
      if (!idx) {
        idx = { key: predicateFor(key, []), byValue: new Map() };
        indexes.set(key, idx);
      }
      for (const v of route.when[keys.indexOf(key)]!.values) {
        const list = idx.byValue.get(v);
        if (list) list.push(route);
        else idx.byValue.set(v, [route]);
      }
    }
    this.#indexes = [...indexes.values()];
    this.#routes = [...routes.values()];
    this.#view = new EventView(slots);
    this.#keywords.prepare();
  }

  evaluate(event: SigmaEvent): RuleMatch[] {
    const out: RuleMatch[] = [];
    try {
      this.#view.reset(event);
      const stamp = this.#nextStamp();
      for (const idx of this.#indexes) {
        const v = this.#predicateValue(idx.key);
        if (v === undefined) continue;
        if (typeof v === 'string') {
          const routes = idx.byValue.get(v);
          if (routes) for (const r of routes) this.#runRoute(r, stamp, out);
        } else {
          for (const one of v) {
            const routes = idx.byValue.get(one);
            if (routes) for (const r of routes) this.#runRoute(r, stamp, out);
          }
        }
      }
      for (const r of this.#unindexed) this.#runRoute(r, stamp, out);
    } catch {
      this.evalErrors++;
    }
    return out;
  }

  /** Stamps live in Uint32Arrays: after 2^32 events every stored stamp is cleared before reuse. */
  #nextStamp(): number {
    this.#stamp = (this.#stamp + 1) >>> 0;
    if (this.#stamp === 0) {
      this.#keywords.clear();
      for (const route of this.#routes) {
        route.stamp = 0;
        route.prefilter?.clear();
        for (const rr of route.rules) rr.state.stamp = 0;
      }
      for (const c of this.#counters) c.stamp = 0;
      this.#stamp = 1;
    }
    return this.#stamp;
  }

  #predicateValue(p: Predicate): FieldString {
    if (p.meta === null) return this.#view.lower(p.slot);
    const m = (this.#view.meta as unknown as Record<string, unknown>)[p.meta];
    return typeof m === 'string' ? m.toLowerCase() : typeof m === 'number' || typeof m === 'boolean' ? String(m) : undefined;
  }

  #runRoute(route: Route, stamp: number, out: RuleMatch[]): void {
    if (route.stamp === stamp) return;
    route.stamp = stamp;
    for (const p of route.when) {
      const v = this.#predicateValue(p);
      if (v === undefined) return;
      if (typeof v === 'string' ? !p.values.has(v) : !v.some((x) => p.values.has(x))) return;
    }
    const c = route.counter;
    if (c !== null && c.stamp !== stamp) {
      c.stamp = stamp;
      if (c.events++ === 0) this.#touched.push(c);
    }
    const pf = route.prefilter;
    if (pf) {
      const n = pf.candidates(this.#view, stamp);
      const list = pf.list;
      for (let i = 0; i < n; i++) this.#runRule(route.rules[list[i]!]!, stamp, out);
    } else for (const rr of route.rules) this.#runRule(rr, stamp, out);
  }

  #runRule(rr: RouteRule, stamp: number, out: RuleMatch[]): void {
    const st = rr.state;
    if (st.stamp === stamp) return;
    let hit: boolean;
    this.ruleEvaluations++;
    try {
      if (this.#profile) {
        const t0 = performance.now();
        hit = st.rule.test(this.#view, rr.slots);
        st.ms += performance.now() - t0;
        st.evaluations++;
        if (hit) st.matches++;
      } else hit = st.rule.test(this.#view, rr.slots);
    } catch {
      this.evalErrors++;
      return;
    }
    if (hit) {
      st.stamp = stamp;
      out.push({ rule: st.rule.info, matched: this.#matched(rr) });
    }
  }

  /**
   * Events routed to each logsource's rules since the last call (routing key → events; undefined when
   * none), and the counters start again from zero. Routed means the event matched the logsource's
   * mapping, whether or not a rule then matched.
   */
  takeRouted(): Record<string, number> | undefined {
    if (this.#touched.length === 0) return undefined;
    const out: Record<string, number> = {};
    for (const c of this.#touched) {
      out[c.key] = c.events;
      c.events = 0;
    }
    this.#touched.length = 0;
    return out;
  }

  /** Per-rule cost so far, most expensive first (all zero unless built with `profile: true`). */
  ruleCosts(): RuleCost[] {
    return this.#states
      .map((st) => ({ rule: st.rule.info, evaluations: st.evaluations, matches: st.matches, ms: st.ms }))
      .sort((a, b) => b.ms - a.ms);
  }

  /** Field → value of the event fields the rule references (after renames), plus fields a keyword hit. */
  #matched(rr: RouteRule): Record<string, string> {
    const view = this.#view;
    const m: Record<string, string> = {};
    for (let i = 0; i < rr.slots.length; i++) {
      const slot = rr.slots[i]!;
      const v = view.value(slot);
      if (v !== undefined) m[view.names[slot]!] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    const probes = rr.state.rule.probes;
    if (probes.length) {
      for (const key of Object.keys(view.fields)) {
        if (key in m) continue;
        const v = toFieldString(view.fields[key]);
        if (v === undefined) continue;
        const vs = typeof v === 'string' ? [v] : v;
        if (vs.some((x) => probes.some((p) => p(x.toLowerCase())))) m[key] = typeof v === 'string' ? v : JSON.stringify(v);
      }
    }
    return m;
  }
}

/** The variants a rule is evaluated through: its logsource's entry, or the fallback (null when unmapped). */
export function variantsFor(mapping: LogsourceMapping, product: string, category: string, service: string): readonly LogsourceVariant[] | null {
  const entry = mapping.entries.find((e) => (e.product ?? '') === product && (e.category ?? '') === category && (e.service ?? '') === service);
  return entry ? entry.variants : null;
}
