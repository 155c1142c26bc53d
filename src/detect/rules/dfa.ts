/**
 * Aho-Corasick as a dense DFA: every (state, character class) transition is precomputed, so a
 * scan step is one typed-array read, with no suffix-link loop and no Map lookup. Characters are
 * grouped into classes (those that occur in some needle, one class each, A-Z folded onto a-z;
 * every other character is class 0, which no needle contains), so the table is states ×
 * classes, not states × 65536. The few non-ASCII needle characters (windash's dashes) are
 * classed through a small Map. When the table would be too big, only the shallow states (where
 * a scan spends nearly all its steps) get dense rows.
 *
 * Why: the Map-per-branching-node automaton spent most of its time in Map lookups along suffix
 * links; the keyword scan (every value of every Windows event: one product-only rule's keywords
 * route every Windows event through it) and the CommandLine scan were the largest items of the
 * engine profile after the affix tries. Keyword scan 14.1% → 6.2% of samples; engine ~40k → ~52k
 * events/s (CPU-time rate, best of 3; this 2-core machine is shared, so ±20%), 2026-11-22.
 * Encoding each transition as its row offset plus an accept bit (see #delta) halved the scan again:
 * 6.7–8.7 → 3.5–3.8 ns per character over the bench mix's values; pipeline ~32k → ~38k records/s.
 */
import type { Marker, Postings, SubstringIndex } from './automata.ts';
import { adopt, int32 } from './shared-arrays.ts';

/**
 * Dense rows (states × classes entries) at most; states beyond (deeper ones: states are numbered
 * breadth-first) keep sparse transitions and fall back along suffix links to a dense state.
 * 2^19 entries = 2 MB: every automaton of the SigmaHQ ruleset is fully dense except the big
 * CommandLine (5,501 needles) and hash ones, whose first few thousand states are.
 */
export const DFA_MAX_ENTRIES = 1 << 19;

export class AsciiDfa implements SubstringIndex {
  /** ASCII character → class (A-Z share a-z's class: scanFolded needs no extra step). */
  readonly #cls: Uint8Array;
  /** Non-ASCII character → class, for the needle characters that are not ASCII. */
  readonly #wide: Map<number, number>;
  /** Every needle is ASCII (scanFolded is only valid then). */
  readonly asciiOnly: boolean;
  readonly #k: number;
  /** States below this have a dense row in `delta`. */
  readonly #dense: number;
  /**
   * (state × k + class) → the next state, encoded for the scan loops: a dense state t as
   * (t × k) << 1 | accepts(t) (its row offset, so a step is one add and one read, and the accept
   * bit, so a step needs no second lookup), a sparse state t as ~t (negative).
   */
  readonly #delta: Int32Array;
  /** Sparse states: the class of their only child (-1: none or several), that child, several children, suffix link. */
  readonly #oneCls: Int32Array;
  readonly #oneNext: Int32Array;
  /** Sparse states with several children (254 of 305,492 states over the SigmaHQ ruleset): kept by state, not in an array of nulls. */
  readonly #many: Map<number, Map<number, number>>;
  readonly #fail: Int32Array;
  /** Per state: postings of every needle ending there (merged along suffix links), or null. */
  readonly #out: Map<number, Postings[]>;

  /** null when the needles use over 254 distinct characters. */
  static build(needles: ReadonlyMap<string, Postings>, maxEntries = DFA_MAX_ENTRIES): AsciiDfa | null {
    const cls = new Uint8Array(128);
    const wide = new Map<number, number>();
    let k = 1;
    for (const needle of needles.keys()) {
      for (let i = 0; i < needle.length; i++) {
        let c = needle.charCodeAt(i);
        if (c >= 128) {
          if (!wide.has(c)) wide.set(c, k++);
          continue;
        }
        if (c >= 65 && c <= 90) c += 32;
        if (cls[c] === 0) cls[c] = k++;
      }
    }
    if (k > 255) return null;
    for (let c = 65; c <= 90; c++) cls[c] = cls[c + 32]!;
    return new AsciiDfa(needles, cls, wide, k, maxEntries);
  }

  private constructor(needles: ReadonlyMap<string, Postings>, cls: Uint8Array, wide: Map<number, number>, k: number, maxEntries: number) {
    this.#cls = cls;
    this.#wide = wide;
    this.asciiOnly = wide.size === 0;
    this.#k = k;
    const classOf = (c: number) => (c < 128 ? cls[c]! : wide.get(c)!);
    // Trie (children by class), then renumbered breadth-first so dense states are the shallow ones.
    const kids: Map<number, number>[] = [new Map<number, number>()];
    const ends: (Postings[] | null)[] = [null];
    for (const [needle, postings] of needles) {
      let node = 0;
      for (let i = 0; i < needle.length; i++) {
        const c = classOf(needle.charCodeAt(i));
        let n = kids[node]!.get(c);
        if (n === undefined) {
          n = kids.length;
          kids.push(new Map<number, number>());
          ends.push(null);
          kids[node]!.set(c, n);
        }
        node = n;
      }
      (ends[node] ??= []).push(postings);
    }
    const n = kids.length;
    const order = [0];
    for (let qi = 0; qi < order.length; qi++) for (const child of kids[order[qi]!]!.values()) order.push(child);
    const id = new Int32Array(n);
    order.forEach((old, i) => (id[old] = i));
    const dense = Math.max(1, Math.min(n, Math.floor(maxEntries / k)));
    const delta = int32(dense * k);
    const oneCls = int32(n, -1);
    const oneNext = int32(n);
    const many = new Array<Map<number, number> | null>(n).fill(null);
    const fail = int32(n);
    const out = new Array<Postings[] | null>(n).fill(null);
    const children = order.map((old) => [...kids[old]!].map(([c, child]) => [c, id[child]!] as const));
    order.forEach((old, i) => (out[i] = ends[old] ?? null));
    const step = (node: number, c: number): number => {
      for (;;) {
        if (node < dense) return delta[node * k + c]!;
        if (oneCls[node] === c) return oneNext[node]!;
        const m = many[node];
        if (m) {
          const to = m.get(c);
          if (to !== undefined) return to;
        }
        node = fail[node]!;
      }
    };
    // Breadth-first (= numbering order): suffix links and fallback rows come from shallower states.
    for (let node = 0; node < n; node++) {
      const f = fail[node]!;
      if (node !== 0) {
        const inherited = out[f];
        if (inherited) out[node] = [...(out[node] ?? []), ...inherited];
      }
      const ch = children[node]!;
      for (const [c, child] of ch) fail[child] = node === 0 ? 0 : step(f, c);
      if (node < dense) {
        if (node !== 0) for (let j = 0; j < k; j++) delta[node * k + j] = delta[f * k + j]!;
        for (const [c, child] of ch) delta[node * k + c] = child;
      } else if (ch.length === 1) {
        oneCls[node] = ch[0]![0];
        oneNext[node] = ch[0]![1];
      } else if (ch.length > 1) many[node] = new Map(ch);
    }
    for (let i = 0; i < delta.length; i++) {
      const t = delta[i]!;
      delta[i] = t < dense ? ((t * k) << 1) | (out[t] ? 1 : 0) : ~t;
    }
    this.#dense = dense;
    this.#delta = adopt(delta);
    this.#oneCls = adopt(oneCls);
    this.#oneNext = adopt(oneNext);
    // Only ~4 % of states accept and ~0.1 % branch sparsely: arrays with a slot per state held ~4 MB of nulls.
    this.#many = nonNull(many);
    this.#fail = adopt(fail);
    this.#out = nonNull(out);
  }

  /** The transition from any state, as a plain state number (the scans' slow path). */
  #sparse(node: number, c: number): number {
    const dense = this.#dense;
    for (;;) {
      if (node < dense) return this.#decode(this.#delta[node * this.#k + c]!);
      if (this.#oneCls[node] === c) return this.#oneNext[node]!;
      const m = this.#many.get(node);
      if (m) {
        const to = m.get(c);
        if (to !== undefined) return to;
      }
      node = this.#fail[node]!;
    }
  }

  #decode(e: number): number {
    return e < 0 ? ~e : (e >> 1) / this.#k;
  }

  #encode(node: number): number {
    return node < this.#dense ? ((node * this.#k) << 1) | (this.#out.has(node) ? 1 : 0) : ~node;
  }

  /** The postings of the (encoded) state `e` to `to`. */
  #emit(e: number, to: Marker): void {
    const o = this.#out.get(this.#decode(e));
    if (o) for (let j = 0; j < o.length; j++) to.hit(o[j]!);
  }

  /** Needles in `s` (already lower-cased). */
  scan(s: string, to: Marker): void {
    const cls = this.#cls;
    const wide = this.#wide;
    const delta = this.#delta;
    let e = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const x = c < 128 ? cls[c]! : (wide.get(c) ?? 0);
      e = e >= 0 ? delta[(e >> 1) + x]! : this.#encode(this.#sparse(~e, x));
      if (e >= 0 ? (e & 1) !== 0 : this.#out.has(~e)) this.#emit(e, to);
    }
  }

  /**
   * scan(s.toLowerCase()) without the lower-cased copy, for ASCII needles only (asciiOnly):
   * ASCII folds through the class table, other characters through toLowerCase (which may yield
   * ASCII, e.g. U+212A Kelvin → `k`; lower-casing is per character except for final sigma,
   * which only yields non-ASCII).
   */
  scanFolded(s: string, to: Marker): void {
    const cls = this.#cls;
    const delta = this.#delta;
    let e = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 128) {
        const x = cls[c]!;
        e = e >= 0 ? delta[(e >> 1) + x]! : this.#encode(this.#sparse(~e, x));
      } else {
        const low = String.fromCharCode(c).toLowerCase();
        for (let m = 0; m < low.length; m++) {
          const d = low.charCodeAt(m);
          e = this.#encode(this.#sparse(this.#decode(e), d < 128 ? cls[d]! : 0));
          if (m < low.length - 1) this.#emit(e, to);
        }
      }
      if (e >= 0 ? (e & 1) !== 0 : this.#out.has(~e)) this.#emit(e, to);
    }
  }
}

/** The non-null entries of a per-state array, by state. */
function nonNull<T>(perState: readonly (T | null)[]): Map<number, T> {
  const m = new Map<number, T>();
  for (let i = 0; i < perState.length; i++) {
    const v = perState[i];
    if (v !== null && v !== undefined) m.set(i, v);
  }
  return m;
}
