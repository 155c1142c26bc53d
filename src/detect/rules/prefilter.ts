/**
 * Candidate index ("witness" prefilter, after rsigma): most rules can only match when one of a
 * few string facts holds, e.g. `Image` ends with `\whoami.exe` or `CommandLine` contains
 * `sekurlsa`. values.ts derives such a witness for every test (AND keeps the most selective
 * child's, OR the union of its children's, NOT has none). Per route, the witnesses of its rules
 * are indexed by field: exact values in a Map, prefixes and suffixes in Maps per needle length,
 * substrings in one Aho-Corasick automaton per field. For an event each indexed field is scanned
 * once and the rules whose witness fired are marked; only marked rules and rules without a
 * witness are evaluated. Sound by construction: a rule that would match always has a fact that
 * holds, so it is always marked (test/unit/detect/prefilter.test.ts checks results are equal).
 */
import type { EventView } from './event-view.ts';
import type { Witness } from './values.ts';

/** Substring sets smaller than this are checked with `includes`; larger ones with Aho-Corasick. */
const AC_MIN_NEEDLES = 8;

type Postings = number[];

interface FieldFacts {
  readonly slot: number;
  readonly eq: Map<string, Postings>;
  /** needle length → needle → rules, for prefixes and suffixes. */
  readonly sw: Map<number, Map<string, Postings>>;
  readonly ew: Map<number, Map<string, Postings>>;
  readonly swLens: number[];
  readonly ewLens: number[];
  ct: SubstringIndex | null;
}

export class RoutePrefilter {
  /** Rules (by position in the route) that have no witness and are always evaluated. */
  readonly always: Uint8Array;
  readonly #fields: FieldFacts[];

  /** `rules[i]`: the witness of the route's i-th rule and its slot table. */
  constructor(rules: readonly { readonly witness: Witness | null; readonly slots: Int32Array }[]) {
    this.always = new Uint8Array(rules.length);
    const bySlot = new Map<number, FieldFacts>();
    const ctNeedles = new Map<number, Map<string, Postings>>();
    const field = (slot: number): FieldFacts => {
      let f = bySlot.get(slot);
      if (!f) {
        f = { slot, eq: new Map(), sw: new Map(), ew: new Map(), swLens: [], ewLens: [], ct: null };
        bySlot.set(slot, f);
      }
      return f;
    };
    const post = <K>(m: Map<K, Postings>, k: K, rule: number) => {
      const p = m.get(k);
      if (!p) m.set(k, [rule]);
      else if (p[p.length - 1] !== rule) p.push(rule);
    };
    rules.forEach((r, i) => {
      if (r.witness === null) {
        this.always[i] = 1;
        return;
      }
      for (const fact of r.witness) {
        const slot = r.slots[fact.f]!;
        const f = field(slot);
        if (fact.k === 'eq') post(f.eq, fact.s, i);
        else if (fact.k === 'ct') {
          let m = ctNeedles.get(slot);
          if (!m) ctNeedles.set(slot, (m = new Map()));
          post(m, fact.s, i);
        } else {
          const byLen = fact.k === 'sw' ? f.sw : f.ew;
          let m = byLen.get(fact.s.length);
          if (!m) byLen.set(fact.s.length, (m = new Map()));
          post(m, fact.s, i);
        }
      }
    });
    for (const f of bySlot.values()) {
      f.swLens.push(...[...f.sw.keys()].sort((a, b) => a - b));
      f.ewLens.push(...[...f.ew.keys()].sort((a, b) => a - b));
      const needles = ctNeedles.get(f.slot);
      if (needles) f.ct = needles.size < AC_MIN_NEEDLES ? new NeedleList(needles) : new AhoCorasick(needles);
    }
    this.#fields = [...bySlot.values()];
  }

  /** Sets `cand[i] = stamp` for every rule whose witness holds on the event. */
  mark(view: EventView, cand: Uint32Array, stamp: number): void {
    const set = (p: Postings | undefined) => {
      if (p) for (let i = 0; i < p.length; i++) cand[p[i]!] = stamp;
    };
    for (const f of this.#fields) {
      const v = view.lower(f.slot);
      if (v === undefined) continue;
      const values = typeof v === 'string' ? [v] : v;
      for (const x of values) {
        if (f.eq.size !== 0) set(f.eq.get(x));
        for (const len of f.swLens) {
          if (len > x.length) break;
          set(f.sw.get(len)!.get(x.slice(0, len)));
        }
        for (const len of f.ewLens) {
          if (len > x.length) break;
          set(f.ew.get(len)!.get(x.slice(x.length - len)));
        }
        if (f.ct) f.ct.scan(x, set);
      }
    }
  }
}

interface SubstringIndex {
  scan(s: string, hit: (p: Postings) => void): void;
}

class NeedleList implements SubstringIndex {
  readonly #needles: string[];
  readonly #postings: Postings[];
  constructor(needles: Map<string, Postings>) {
    this.#needles = [...needles.keys()];
    this.#postings = [...needles.values()];
  }
  scan(s: string, hit: (p: Postings) => void): void {
    for (let i = 0; i < this.#needles.length; i++) if (s.includes(this.#needles[i]!)) hit(this.#postings[i]!);
  }
}

/**
 * Aho-Corasick over UTF-16 code units. Root transitions are a dense table (most steps of a scan
 * restart at the root); other nodes keep a Map. Outputs are merged along suffix links at build
 * time, so a scan step reports every needle ending there with one array read.
 */
class AhoCorasick implements SubstringIndex {
  readonly #root = new Int32Array(65536).fill(-1);
  readonly #next: Map<number, number>[] = [new Map()];
  readonly #fail: number[] = [0];
  readonly #out: (Postings[] | null)[] = [null];

  constructor(needles: Map<string, Postings>) {
    for (const [needle, postings] of needles) {
      let node = 0;
      for (let i = 0; i < needle.length; i++) {
        const c = needle.charCodeAt(i);
        let n = this.#next[node]!.get(c);
        if (n === undefined) {
          n = this.#next.length;
          this.#next.push(new Map());
          this.#fail.push(0);
          this.#out.push(null);
          this.#next[node]!.set(c, n);
        }
        node = n;
      }
      (this.#out[node] ??= []).push(postings);
    }
    for (const [c, n] of this.#next[0]!) this.#root[c] = n;
    // Breadth-first: a node's suffix link is found from its parent's.
    const queue: number[] = [...this.#next[0]!.values()];
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      for (const [c, child] of this.#next[node]!) {
        // The longest proper suffix of child's string that is in the trie (shallower, so done).
        const target = this.#step(this.#fail[node]!, c);
        this.#fail[child] = target;
        const inherited = this.#out[target];
        if (inherited) this.#out[child] = [...(this.#out[child] ?? []), ...inherited];
        queue.push(child);
      }
    }
  }

  /** The transition from `node` on `c`, following suffix links (the root never fails). */
  #step(node: number, c: number): number {
    for (;;) {
      if (node === 0) {
        const r = this.#root[c]!;
        return r < 0 ? 0 : r;
      }
      const n = this.#next[node]!.get(c);
      if (n !== undefined) return n;
      node = this.#fail[node]!;
    }
  }

  scan(s: string, hit: (p: Postings) => void): void {
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      node = this.#step(node, s.charCodeAt(i));
      const out = this.#out[node];
      if (out) for (let j = 0; j < out.length; j++) hit(out[j]!);
    }
  }
}

