/**
 * Candidate index ("witness" prefilter, after rsigma): most rules can only match when one of a
 * few string facts holds, e.g. `Image` ends with `\whoami.exe` or `CommandLine` contains
 * `sekurlsa`. values.ts derives such a witness for every test (AND keeps the most selective
 * child's, OR the union of its children's, NOT has none). Per route, the witnesses of its rules
 * are indexed by field: exact values in a Map, prefixes in a trie walked from the value's start,
 * suffixes in a trie walked from its end, substrings in one Aho-Corasick automaton per field.
 * Keyword facts (any field contains) of all routes share one KeywordIndex, so an event's values
 * are scanned for keywords once, however many routes it meets. For an event each indexed field
 * is scanned once and the rules whose witness fired become candidates; only candidates and rules
 * without a witness are evaluated. Sound by construction: a rule that would match always has a fact that
 * holds, so it is always marked (test/unit/detect/prefilter.test.ts checks results are equal).
 */
import type { FieldValue } from '../../map/types.ts';
import type { EventView } from './event-view.ts';
import { isAscii } from './sigma-string.ts';
import { ANY_FIELD, type Witness } from './combine.ts';
import { AsciiDfa } from './dfa.ts';
import { AffixTrie, AhoCorasick, substringIndex, type Marker, type Postings, type SubstringIndex } from './automata.ts';


interface FieldFacts {
  readonly slot: number;
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

  /**
   * `rules[i]`: the witness of the route's i-th rule and its slot table. `keywords` is shared by
   * every route of a detector (a route builds its own when none is given).
   */
  constructor(rules: readonly { readonly witness: Witness | null; readonly slots: Int32Array }[], keywords: KeywordIndex = new KeywordIndex()) {
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
      eq: raw.eq.size ? raw.eq : null,
      sw: raw.sw.size ? new AffixTrie(raw.sw, false) : null,
      ew: raw.ew.size ? new AffixTrie(raw.ew, true) : null,
      ct: substringIndex(raw.ct),
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
    if (f.eq) {
      const p = f.eq.get(x);
      if (p) this.hit(p);
    }
    if (f.sw) f.sw.walk(x, this);
    if (f.ew) f.ew.walk(x, this);
    if (f.ct) f.ct.scan(x, this);
  }
}

/**
 * The keyword needles (any field contains) of every route of a detector, with one event scan
 * shared by all of them: a Windows event meets several routes with keyword rules (e.g. the
 * product-only ones), and each used to scan all of the event's values again. Needles get ids;
 * a route keeps its postings by id. ASCII needles are found in the original values folded on
 * the fly (no lower-cased copies); the others in the lower-cased values.
 */
export class KeywordIndex implements Marker {
  readonly #ids = new Map<string, number>();
  #ascii: AsciiDfa | AhoCorasick | null = null;
  #other: SubstringIndex | null = null;
  #built = true;
  /** Per needle id: the stamp of the last event it was found in. */
  #seen = new Uint32Array(0);
  #found = new Int32Array(0);
  #count = 0;
  #stamp = 0;
  #scanned = 0;

  /** The id of a needle (lower-cased), registering it. */
  add(needle: string): number {
    let id = this.#ids.get(needle);
    if (id === undefined) {
      id = this.#ids.size;
      this.#ids.set(needle, id);
      this.#built = false;
    }
    return id;
  }

  #build(): void {
    const ascii = new Map<string, Postings>();
    const other = new Map<string, Postings>();
    for (const [needle, id] of this.#ids) (isAscii(needle) ? ascii : other).set(needle, [id]);
    this.#ascii = ascii.size ? (AsciiDfa.build(ascii) ?? new AhoCorasick(ascii)) : null; // ASCII needles: asciiOnly, scanFolded is valid
    this.#other = substringIndex(other);
    this.#seen = new Uint32Array(this.#ids.size);
    this.#found = new Int32Array(this.#ids.size);
    this.#scanned = 0;
    this.#built = true;
  }

  /** Ids of the needles found in the event (into `found`), computed once per stamp. */
  scan(view: EventView, stamp: number): number {
    if (!this.#built) this.#build();
    if (this.#scanned === stamp) return this.#count;
    this.#scanned = stamp;
    this.#stamp = stamp;
    this.#count = 0;
    // Walks the fields directly rather than through view.allValues(): the leaf array cost
    // 6.8% of the engine profile, more than scanning the values (bench, 2026-11-22).
    this.#leaves(view.fields as FieldValue);
    return this.#count;
  }

  /** Every leaf value of the event, in EventView.allValues() order and stringification. */
  #leaves(v: FieldValue): void {
    if (v === null) return;
    if (typeof v === 'string') this.#scanLeaf(v);
    else if (typeof v === 'number' || typeof v === 'boolean') this.#scanLeaf(String(v));
    else if (Array.isArray(v)) for (const x of v as readonly FieldValue[]) this.#leaves(x);
    else {
      const o = v as Readonly<Record<string, FieldValue>>;
      for (const key in o) this.#leaves(o[key]!);
    }
  }

  #scanLeaf(x: string): void {
    if (this.#ascii) this.#ascii.scanFolded(x, this);
    if (this.#other) this.#other.scan(x.toLowerCase(), this);
  }

  get found(): Int32Array {
    return this.#found;
  }

  /** Forgets every stamp (the detector's stamp counter wrapped around). */
  clear(): void {
    this.#seen.fill(0);
    this.#scanned = 0;
  }

  hit(p: Postings): void {
    for (let i = 0; i < p.length; i++) {
      const id = p[i]!;
      if (this.#seen[id] !== this.#stamp) {
        this.#seen[id] = this.#stamp;
        this.#found[this.#count++] = id;
      }
    }
  }
}
