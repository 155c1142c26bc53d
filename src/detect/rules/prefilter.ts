/**
 * Candidate index ("witness" prefilter, after rsigma): most rules can only match when one of a
 * few string facts holds, e.g. `Image` ends with `\whoami.exe` or `CommandLine` contains
 * `sekurlsa`. values.ts derives such a witness for every test (AND keeps the most selective
 * child's, OR the union of its children's, NOT has none). Per route, the witnesses of its rules
 * are indexed by field: exact values in a Map, prefixes in a trie walked from the value's start,
 * suffixes in a trie walked from its end, substrings in one Aho-Corasick automaton per field
 * (automata.ts, dfa.ts), with a memo of each field's results by value. Keyword facts (any field
 * contains) of all routes share one KeywordIndex (keywords.ts), so an event's values are scanned
 * for keywords once, however many routes it meets. For an event each indexed field is scanned
 * once and the rules whose witness fired become candidates; only candidates and rules without a
 * witness are evaluated. Sound by construction: a rule that would match always has a fact that
 * holds, so it is always marked (test/unit/detect/prefilter.test.ts checks results are equal).
 */
import type { EventView } from './event-view.ts';
import { ANY_FIELD, type Witness } from './combine.ts';
import { AffixTrie, SubstringCache, type Marker, type Postings, type SubstringIndex } from './automata.ts';
import { KeywordIndex } from './keywords.ts';

/**
 * Memo of each field's fact results by value: log fields repeat (Image, ParentImage, Channel,
 * Company, …), and a repeated value costs one Map lookup instead of the trie walks and the
 * substring scan. Engine ~60k → ~78k events/s on the bench mix (2026-11-22). Bounded: a memo
 * holding MEMO_MAX_CHARS characters of keys is cleared (the SigmaHQ ruleset has 179 memos, so
 * at most ~23 MB even if every field of every logsource saw only unique values); long values
 * (mostly unique command lines) are not kept. The same memo for keyword leaves was slower
 * (unique leaves — times, GUIDs, record ids — churned it and kept strings alive into the old
 * generation) and was dropped.
 */
const MEMO_MAX_CHARS = 1 << 16;
const MEMO_MAX_LENGTH = 512;
const NO_POSTINGS: readonly Postings[] = [];

class Recorder implements Marker {
  got: Postings[] = [];
  hit(p: Postings): void {
    this.got.push(p);
  }
}

interface FieldFacts {
  readonly slot: number;
  /** Value → postings its facts produced (see MEMO_MAX_CHARS); null when the field has only exact facts. */
  readonly memo: Map<string, readonly Postings[]> | null;
  /** Characters of the memo's keys. */
  memoChars: number;
  readonly eq: Map<string, Postings> | null;
  readonly sw: AffixTrie | null;
  readonly ew: AffixTrie | null;
  readonly ct: SubstringIndex | null;
}

export class RoutePrefilter implements Marker {
  /** Rules (positions in the route) without a witness: always evaluated. */
  readonly #always: Int32Array;
  readonly #fields: FieldFacts[];
  /** Keyword facts: substrings of any field value, found by the shared index; postings by its needle id. */
  readonly #keywords: KeywordIndex;
  readonly #kwPostings: (Postings | undefined)[] = [];
  readonly #hasKeywords: boolean;
  /** Per rule: the stamp of the last event it became a candidate for. */
  readonly #cand: Uint32Array;
  readonly #list: Int32Array;
  #count = 0;
  #stamp = 0;
  readonly #recorder = new Recorder();

  /**
   * `rules[i]`: the witness of the route's i-th rule and its slot table. `keywords` and `cache`
   * are shared by every route of a detector (a route makes its own when none are given).
   */
  constructor(rules: readonly { readonly witness: Witness | null; readonly slots: Int32Array }[], keywords: KeywordIndex = new KeywordIndex(), cache: SubstringCache = new SubstringCache()) {
    const always: number[] = [];
    this.#cand = new Uint32Array(rules.length);
    this.#list = new Int32Array(rules.length);
    const post = <K>(m: Map<K, Postings>, k: K, rule: number) => {
      const p = m.get(k);
      if (!p) m.set(k, [rule]);
      else if (p[p.length - 1] !== rule) p.push(rule);
    };
    interface Raw {
      eq: Map<string, Postings>;
      sw: Map<string, Postings>;
      ew: Map<string, Postings>;
      ct: Map<string, Postings>;
    }
    const bySlot = new Map<number, Raw>();
    const anyField = new Map<string, Postings>();
    rules.forEach((r, i) => {
      if (r.witness === null) {
        always.push(i);
        return;
      }
      for (const fact of r.witness) {
        if (fact.f === ANY_FIELD) {
          post(anyField, fact.s, i); // every kind implies "contains"
          continue;
        }
        const slot = r.slots[fact.f]!;
        let raw = bySlot.get(slot);
        if (!raw) bySlot.set(slot, (raw = { eq: new Map(), sw: new Map(), ew: new Map(), ct: new Map() }));
        post(raw[fact.k], fact.s, i);
      }
    });
    this.#fields = [...bySlot].map(([slot, raw]) => ({
      slot,
      memo: raw.sw.size + raw.ew.size + raw.ct.size ? new Map<string, readonly Postings[]>() : null,
      memoChars: 0,
      eq: raw.eq.size ? raw.eq : null,
      sw: raw.sw.size ? new AffixTrie(raw.sw, false) : null,
      ew: raw.ew.size ? new AffixTrie(raw.ew, true) : null,
      ct: raw.ct.size ? cache.get(raw.ct) : null,
    }));
    this.#keywords = keywords;
    for (const [needle, p] of anyField) this.#kwPostings[keywords.add(needle)] = p;
    this.#hasKeywords = anyField.size !== 0;
    this.#always = Int32Array.from(always);
  }

  /**
   * The route's rules to evaluate for this event: rules without a witness and rules whose witness
   * holds, as positions in the route, ascending. Returns how many were written to `list()`.
   */
  candidates(view: EventView, stamp: number): number {
    this.#stamp = stamp;
    this.#count = 0;
    const cand = this.#cand;
    for (let i = 0; i < this.#always.length; i++) {
      cand[this.#always[i]!] = stamp;
      this.#list[this.#count++] = this.#always[i]!;
    }
    this.#mark(view);
    const list = this.#list;
    if (this.#count > 1) list.subarray(0, this.#count).sort();
    return this.#count;
  }

  /** Forgets every stamp (the detector's stamp counter wrapped around). */
  clear(): void {
    this.#cand.fill(0);
  }

  /** Buffer holding the last `candidates()` result. */
  get list(): Int32Array {
    return this.#list;
  }

  #mark(view: EventView): void {
    for (const f of this.#fields) {
      const v = view.lower(f.slot);
      if (v === undefined) continue;
      if (typeof v === 'string') this.#markValue(f, v);
      else for (let i = 0; i < v.length; i++) this.#markValue(f, v[i]!);
    }
    if (this.#hasKeywords) {
      const kw = this.#keywords;
      const n = kw.scan(view, this.#stamp);
      const ids = kw.found;
      const posts = this.#kwPostings;
      for (let i = 0; i < n; i++) {
        const p = posts[ids[i]!];
        if (p) this.hit(p);
      }
    }
  }

  hit(p: Postings): void {
    const cand = this.#cand;
    const stamp = this.#stamp;
    for (let i = 0; i < p.length; i++) {
      const r = p[i]!;
      if (cand[r] !== stamp) {
        cand[r] = stamp;
        this.#list[this.#count++] = r;
      }
    }
  }

  #markValue(f: FieldFacts, x: string): void {
    const memo = f.memo;
    if (memo === null || x.length > MEMO_MAX_LENGTH) {
      this.#markFacts(f, x, this);
      return;
    }
    let got = memo.get(x);
    if (got === undefined) {
      const rec = this.#recorder;
      rec.got = [];
      this.#markFacts(f, x, rec);
      got = rec.got.length ? rec.got : NO_POSTINGS;
      f.memoChars += x.length;
      if (f.memoChars > MEMO_MAX_CHARS) {
        memo.clear();
        f.memoChars = x.length;
      }
      memo.set(x, got);
    }
    for (let i = 0; i < got.length; i++) this.hit(got[i]!);
  }

  #markFacts(f: FieldFacts, x: string, to: Marker): void {
    if (f.eq) {
      const p = f.eq.get(x);
      if (p) to.hit(p);
    }
    if (f.sw) f.sw.walk(x, to);
    if (f.ew) f.ew.walk(x, to);
    if (f.ct) f.ct.scan(x, to);
  }
}
