/**
 * Candidate index ("witness" prefilter, after rsigma): most rules can only match when one of a
 * few string facts holds, e.g. `Image` ends with `\whoami.exe` or `CommandLine` contains
 * `sekurlsa`. values.ts derives such a witness for every test (AND keeps the most selective
 * child's, OR the union of its children's, NOT has none). Per route, the witnesses of its rules
 * are indexed by field: exact values in a Map, prefixes and suffixes in Maps per needle length,
 * substrings in one Aho-Corasick automaton per field. For an event each indexed field is scanned
 * once and the rules whose witness fired become candidates; only candidates and rules without
 * a witness are evaluated. Sound by construction: a rule that would match always has a fact that
 * holds, so it is always marked (test/unit/detect/prefilter.test.ts checks results are equal).
 */
import type { EventView } from './event-view.ts';
import { ANY_FIELD, type Witness } from './combine.ts';

/** Substring sets smaller than this are checked with `includes`; larger ones with Aho-Corasick. */
const AC_MIN_NEEDLES = 8;

type Postings = number[];

/** Prefix or suffix needles of one length: a few are compared directly, more go through a Map (one slice per value). */
interface AffixBucket {
  readonly len: number;
  readonly map: Map<string, Postings>;
  /** Set when the bucket is small: needles and postings compared with startsWith / endsWith. */
  readonly list: readonly (readonly [string, Postings])[] | null;
}

interface FieldFacts {
  readonly slot: number;
  readonly eq: Map<string, Postings>;
  readonly sw: AffixBucket[];
  readonly ew: AffixBucket[];
  readonly ct: SubstringIndex | null;
}

const SMALL_BUCKET = 4;

/** Receives the postings of facts that hold. */
interface Marker {
  hit(p: Postings): void;
}

export class RoutePrefilter implements Marker {
  /** Rules (positions in the route) without a witness: always evaluated. */
  readonly #always: Int32Array;
  readonly #fields: FieldFacts[];
  /** Keyword facts: substrings of any field value. */
  readonly #anyField: SubstringIndex | null;
  /** Per rule: the stamp of the last event it became a candidate for. */
  readonly #cand: Uint32Array;
  readonly #list: Int32Array;
  #count = 0;
  #stamp = 0;

  /** `rules[i]`: the witness of the route's i-th rule and its slot table. */
  constructor(rules: readonly { readonly witness: Witness | null; readonly slots: Int32Array }[]) {
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
      sw: Map<number, Map<string, Postings>>;
      ew: Map<number, Map<string, Postings>>;
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
        if (fact.k === 'eq' || fact.k === 'ct') post(raw[fact.k], fact.s, i);
        else {
          const byLen = raw[fact.k];
          let m = byLen.get(fact.s.length);
          if (!m) byLen.set(fact.s.length, (m = new Map<string, Postings>()));
          post(m, fact.s, i);
        }
      }
    });
    const buckets = (byLen: Map<number, Map<string, Postings>>): AffixBucket[] =>
      [...byLen]
        .sort((a, b) => a[0] - b[0])
        .map(([len, map]) => ({ len, map, list: map.size <= SMALL_BUCKET ? [...map] : null }));
    this.#fields = [...bySlot].map(([slot, raw]) => ({ slot, eq: raw.eq, sw: buckets(raw.sw), ew: buckets(raw.ew), ct: substringIndex(raw.ct) }));
    this.#anyField = substringIndex(anyField);
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
    const any = this.#anyField;
    if (any) {
      if (any instanceof AhoCorasick && any.asciiOnly) {
        const all = view.allValues();
        for (let i = 0; i < all.length; i++) any.scanFolded(all[i]!, this);
      } else {
        const all = view.allLower();
        for (let i = 0; i < all.length; i++) any.scan(all[i]!, this);
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
    if (f.eq.size !== 0) {
      const p = f.eq.get(x);
      if (p) this.hit(p);
    }
    for (let b = 0; b < f.sw.length; b++) {
      const bucket = f.sw[b]!;
      if (bucket.len > x.length) break;
      if (bucket.list) {
        for (const [needle, p] of bucket.list) if (x.startsWith(needle)) this.hit(p);
      } else {
        const p = bucket.map.get(x.slice(0, bucket.len));
        if (p) this.hit(p);
      }
    }
    for (let b = 0; b < f.ew.length; b++) {
      const bucket = f.ew[b]!;
      if (bucket.len > x.length) break;
      if (bucket.list) {
        for (const [needle, p] of bucket.list) if (x.endsWith(needle)) this.hit(p);
      } else {
        const p = bucket.map.get(x.slice(x.length - bucket.len));
        if (p) this.hit(p);
      }
    }
    if (f.ct) f.ct.scan(x, this);
  }
}

function substringIndex(needles: Map<string, Postings>): SubstringIndex | null {
  if (needles.size === 0) return null;
  return needles.size < AC_MIN_NEEDLES ? new NeedleList(needles) : new AhoCorasick(needles);
}

interface SubstringIndex {
  scan(s: string, to: Marker): void;
}

class NeedleList implements SubstringIndex {
  readonly #needles: string[];
  readonly #postings: Postings[];
  constructor(needles: Map<string, Postings>) {
    this.#needles = [...needles.keys()];
    this.#postings = [...needles.values()];
  }
  scan(s: string, to: Marker): void {
    for (let i = 0; i < this.#needles.length; i++) if (s.includes(this.#needles[i]!)) to.hit(this.#postings[i]!);
  }
}

/**
 * Aho-Corasick over UTF-16 code units. Built with a Map per node, then flattened: a node with one
 * child (most of them: needles are long and share little) keeps that child in two typed arrays,
 * only branching nodes keep a Map, and the root has a dense table for ASCII. Outputs are merged
 * along suffix links at build time, so a scan step reports every needle ending there with one
 * array read.
 */
class AhoCorasick implements SubstringIndex {
  readonly #rootAscii = new Int32Array(128);
  readonly #rootOther = new Map<number, number>();
  /** Single-child nodes: the child's character (-1 when the node has 0 or several children) and node. */
  readonly #oneChar: Int32Array;
  readonly #oneNext: Int32Array;
  readonly #many: (Map<number, number> | null)[];
  readonly #fail: Int32Array;
  readonly #out: (Postings[] | null)[];
  /** Every needle is ASCII: a scan may lower-case the input on the fly (see scanFolded). */
  readonly asciiOnly: boolean;

  constructor(needles: Map<string, Postings>) {
    const next = [new Map<number, number>()];
    const out: (Postings[] | null)[] = [null];
    let ascii = true;
    for (const [needle, postings] of needles) {
      let node = 0;
      for (let i = 0; i < needle.length; i++) {
        const c = needle.charCodeAt(i);
        if (c >= 128) ascii = false;
        let n = next[node]!.get(c);
        if (n === undefined) {
          n = next.length;
          next.push(new Map<number, number>());
          out.push(null);
          next[node]!.set(c, n);
        }
        node = n;
      }
      (out[node] ??= []).push(postings);
    }
    this.asciiOnly = ascii;
    const n = next.length;
    this.#oneChar = new Int32Array(n).fill(-1);
    this.#oneNext = new Int32Array(n);
    this.#many = new Array<Map<number, number> | null>(n).fill(null);
    this.#fail = new Int32Array(n);
    this.#out = out;
    for (const [c, child] of next[0]!) {
      if (c < 128) this.#rootAscii[c] = child;
      else this.#rootOther.set(c, child);
    }
    for (let node = 1; node < n; node++) {
      const m = next[node]!;
      if (m.size === 1) {
        for (const [c, child] of m) {
          this.#oneChar[node] = c;
          this.#oneNext[node] = child;
        }
      } else if (m.size > 1) this.#many[node] = m;
    }
    // Breadth-first: a node's suffix link is found from its parent's (shallower, so already set).
    const queue: number[] = [...next[0]!.values()];
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      for (const [c, child] of next[node]!) {
        const target = this.#step(this.#fail[node]!, c);
        this.#fail[child] = target;
        const inherited = out[target];
        if (inherited) out[child] = [...(out[child] ?? []), ...inherited];
        queue.push(child);
      }
    }
  }

  /** The transition from `node` on `c`, following suffix links (the root never fails). */
  #step(node: number, c: number): number {
    for (;;) {
      if (node === 0) return c < 128 ? this.#rootAscii[c]! : (this.#rootOther.get(c) ?? 0);
      if (this.#oneChar[node] === c) return this.#oneNext[node]!;
      const m = this.#many[node];
      if (m) {
        const n = m.get(c);
        if (n !== undefined) return n;
      }
      node = this.#fail[node]!;
    }
  }

  scan(s: string, to: Marker): void {
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      node = this.#step(node, s.charCodeAt(i));
      const out = this.#out[node];
      if (out) for (let j = 0; j < out.length; j++) to.hit(out[j]!);
    }
  }

  /**
   * scan(s.toLowerCase()) without building the lower-cased string: ASCII letters are folded
   * inline, other characters through toLowerCase (which may yield ASCII, e.g. U+212A Kelvin →
   * `k`). Only for ASCII needles: lower-casing is per character except for the final-sigma rule,
   * which only produces non-ASCII characters.
   */
  scanFolded(s: string, to: Marker): void {
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 128) node = this.#step(node, c >= 65 && c <= 90 ? c + 32 : c);
      else {
        const low = String.fromCharCode(c).toLowerCase();
        for (let k = 0; k < low.length; k++) {
          node = this.#step(node, low.charCodeAt(k));
          if (k < low.length - 1) this.#emit(node, to);
        }
      }
      this.#emit(node, to);
    }
  }

  #emit(node: number, to: Marker): void {
    const out = this.#out[node];
    if (out) for (let j = 0; j < out.length; j++) to.hit(out[j]!);
  }
}
