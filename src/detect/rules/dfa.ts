/**
 * Aho-Corasick as a dense DFA: every (state, character class) transition is precomputed, so a
 * scan step is one typed-array read, with no suffix-link loop and no Map lookup. Characters are
 * grouped into classes (those that occur in some needle, one class each, A-Z folded onto a-z;
 * every other character is class 0, which no needle contains), so the table is states ×
 * classes, not states × 65536. The few non-ASCII needle characters (windash's dashes) are
 * classed through a small Map.
 *
 * Why: the Map-per-branching-node automaton spent most of its time in Map lookups along suffix
 * links; the keyword scan (every value of every Windows event) and the CommandLine scan were the
 * largest items of the engine profile after the affix tries.
 */
import type { Marker, Postings, SubstringIndex } from './automata.ts';

/** Tables larger than this (entries) are not built; the caller keeps the sparse automaton. */
export const DFA_MAX_ENTRIES = 4 << 20;

export class AsciiDfa implements SubstringIndex {
  /** ASCII character → class (A-Z share a-z's class: scanFolded needs no extra step). */
  readonly #cls: Uint8Array;
  /** Non-ASCII character → class, for the needle characters that are not ASCII. */
  readonly #wide: Map<number, number>;
  /** Every needle is ASCII (scanFolded is only valid then). */
  readonly asciiOnly: boolean;
  readonly #k: number;
  /** (state × k + class) → next state. */
  readonly #delta: Int32Array;
  /** Per state: postings of every needle ending there (merged along suffix links), or null. */
  readonly #out: (Postings[] | null)[];

  /** null when the table would exceed `maxEntries` (or the needles use over 254 characters). */
  static build(needles: ReadonlyMap<string, Postings>, maxEntries = DFA_MAX_ENTRIES): AsciiDfa | null {
    const cls = new Uint8Array(128);
    const wide = new Map<number, number>();
    let k = 1;
    let nodes = 1;
    for (const needle of needles.keys()) {
      nodes += needle.length;
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
    // nodes is an upper bound on the trie size (needle lengths summed).
    if (nodes * k > maxEntries) return null;
    return new AsciiDfa(needles, cls, wide, k);
  }

  private constructor(needles: ReadonlyMap<string, Postings>, cls: Uint8Array, wide: Map<number, number>, k: number) {
    this.#cls = cls;
    this.#wide = wide;
    this.asciiOnly = wide.size === 0;
    this.#k = k;
    const classOf = (c: number) => (c < 128 ? cls[c]! : wide.get(c)!);
    const goto: number[] = [];
    const grow = () => {
      for (let j = 0; j < k; j++) goto.push(-1);
      return goto.length / k - 1;
    };
    grow();
    const out: (Postings[] | null)[] = [null];
    for (const [needle, postings] of needles) {
      let node = 0;
      for (let i = 0; i < needle.length; i++) {
        const at = node * k + classOf(needle.charCodeAt(i));
        let n = goto[at]!;
        if (n < 0) {
          n = grow();
          out.push(null);
          goto[at] = n;
        }
        node = n;
      }
      (out[node] ??= []).push(postings);
    }
    const n = goto.length / k;
    const delta = new Int32Array(n * k);
    const fail = new Int32Array(n);
    const queue: number[] = [];
    for (let j = 0; j < k; j++) {
      const child = goto[j]!;
      if (child > 0) {
        delta[j] = child;
        queue.push(child);
      } // else 0: back to the root
    }
    // Breadth-first: a state's suffix link and missing transitions come from shallower states.
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      const f = fail[node]!;
      const inherited = out[f];
      if (inherited) out[node] = [...(out[node] ?? []), ...inherited];
      for (let j = 0; j < k; j++) {
        const child = goto[node * k + j]!;
        if (child > 0) {
          fail[child] = delta[f * k + j]!;
          delta[node * k + j] = child;
          queue.push(child);
        } else delta[node * k + j] = delta[f * k + j]!;
      }
    }
    this.#delta = delta;
    this.#out = out;
  }

  /** Needles in `s` (already lower-cased). */
  scan(s: string, to: Marker): void {
    const cls = this.#cls;
    const wide = this.#wide;
    const delta = this.#delta;
    const out = this.#out;
    const k = this.#k;
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      node = delta[node * k + (c < 128 ? cls[c]! : (wide.get(c) ?? 0))]!;
      const o = out[node];
      if (o) for (let j = 0; j < o.length; j++) to.hit(o[j]!);
    }
  }

  /**
   * scan(s.toLowerCase()) without the lower-cased copy, for ASCII needles only (asciiOnly):
   * ASCII folds through the class table,
   * other characters through toLowerCase (which may yield ASCII, e.g. U+212A Kelvin → `k`;
   * lower-casing is per character except for final sigma, which only yields non-ASCII).
   */
  scanFolded(s: string, to: Marker): void {
    const cls = this.#cls;
    const delta = this.#delta;
    const out = this.#out;
    const k = this.#k;
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 128) node = delta[node * k + cls[c]!]!;
      else {
        const low = String.fromCharCode(c).toLowerCase();
        for (let m = 0; m < low.length; m++) {
          const d = low.charCodeAt(m);
          node = delta[node * k + (d < 128 ? cls[d]! : 0)]!;
          if (m < low.length - 1) {
            const o = out[node];
            if (o) for (let j = 0; j < o.length; j++) to.hit(o[j]!);
          }
        }
      }
      const o = out[node];
      if (o) for (let j = 0; j < o.length; j++) to.hit(o[j]!);
    }
  }
}
