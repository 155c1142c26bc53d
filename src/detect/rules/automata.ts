/**
 * String automata of the candidate index (prefilter.ts): tries for prefixes and suffixes, and
 * substring search (a few needles with `includes`, more with Aho-Corasick). Every needle carries
 * postings (rule positions), reported to a Marker for each needle found.
 */

/** Rule positions (in a route) that a needle stands for. */
import { AsciiDfa } from './dfa.ts';
import { adopt, int32 } from './shared-arrays.ts';

export type Postings = number[];

/** Receives the postings of facts that hold. */
export interface Marker {
  hit(p: Postings): void;
}

/** Substring sets smaller than this are checked with `includes`; larger ones with Aho-Corasick. */
const AC_MIN_NEEDLES = 8;
/** Non-ASCII characters a split DFA gives classes to (the most used ones). */
const DFA_WIDE_CHARS = 32;

/** A trie's children (child maps per node, root = 0) in the layout the walks read: the root by table, single children inline. */
interface CompactChildren {
  readonly rootAscii: Int32Array;
  readonly rootOther: Map<number, number>;
  /** The only child's character (-1 when the node has 0 or several children) and that child. */
  readonly oneChar: Int32Array;
  readonly oneNext: Int32Array;
  readonly many: (Map<number, number> | null)[];
}

function compactChildren(next: readonly Map<number, number>[]): CompactChildren {
  const n = next.length;
  const c: CompactChildren = {
    rootAscii: new Int32Array(128),
    rootOther: new Map<number, number>(),
    oneChar: int32(n, -1),
    oneNext: int32(n),
    many: new Array<Map<number, number> | null>(n).fill(null),
  };
  for (const [ch, child] of next[0]!) {
    if (ch < 128) c.rootAscii[ch] = child;
    else c.rootOther.set(ch, child);
  }
  for (let node = 1; node < n; node++) {
    const m = next[node]!;
    if (m.size === 1) {
      for (const [ch, child] of m) {
        c.oneChar[node] = ch;
        c.oneNext[node] = child;
      }
    } else if (m.size > 1) c.many[node] = m;
  }
  return { ...c, oneChar: adopt(c.oneChar), oneNext: adopt(c.oneNext) };
}

/**
 * Prefix (or, walked from the end, suffix) needles in a trie: one step per character of the value
 * until the trie has no such child, reporting every needle passed. Replaced one Map per needle
 * length (a slice and a hash per length: the process_creation Image field has suffixes of 32
 * lengths); in the engine profile the prefix/suffix/exact marking went from 11.4% of samples to
 * 2.5% (trie walk 1.5% + the rest of markValue 1.0%), 2026-11-22.
 */
export class AffixTrie {
  readonly #rootAscii: Int32Array;
  readonly #rootOther: Map<number, number>;
  readonly #oneChar: Int32Array;
  readonly #oneNext: Int32Array;
  readonly #many: (Map<number, number> | null)[];
  readonly #out: (Postings | null)[];
  /** Postings of the empty needle (every value has it). */
  readonly #rootOut: Postings | null;
  readonly #fromEnd: boolean;

  constructor(needles: Map<string, Postings>, fromEnd: boolean) {
    this.#fromEnd = fromEnd;
    const next = [new Map<number, number>()];
    const out: (Postings | null)[] = [null];
    for (const [needle, postings] of needles) {
      let node = 0;
      for (let i = 0; i < needle.length; i++) {
        const c = needle.charCodeAt(fromEnd ? needle.length - 1 - i : i);
        let n = next[node]!.get(c);
        if (n === undefined) {
          n = next.length;
          next.push(new Map<number, number>());
          out.push(null);
          next[node]!.set(c, n);
        }
        node = n;
      }
      out[node] = postings;
    }
    this.#rootOut = out[0] ?? null;
    ({ rootAscii: this.#rootAscii, rootOther: this.#rootOther, oneChar: this.#oneChar, oneNext: this.#oneNext, many: this.#many } = compactChildren(next));
    this.#out = out;
  }

  walk(x: string, to: Marker): void {
    if (this.#rootOut) to.hit(this.#rootOut);
    const len = x.length;
    if (len === 0) return;
    const fromEnd = this.#fromEnd;
    let c = x.charCodeAt(fromEnd ? len - 1 : 0);
    let node = c < 128 ? this.#rootAscii[c]! : (this.#rootOther.get(c) ?? 0);
    for (let i = 1; node !== 0; i++) {
      const o = this.#out[node];
      if (o) to.hit(o);
      if (i === len) return;
      c = x.charCodeAt(fromEnd ? len - 1 - i : i);
      if (this.#oneChar[node] === c) node = this.#oneNext[node]!;
      else {
        const m = this.#many[node];
        node = m ? (m.get(c) ?? 0) : 0;
      }
    }
  }
}

/**
 * Builds each distinct substring index once per detector: routes of one logsource seen through
 * several variants (process_creation from Sysmon and from Security 4688) index the same needles
 * with the same postings, and the automata are the bulk of a compiled ruleset's memory.
 */
export class SubstringCache {
  readonly #built = new Map<string, SubstringIndex | null>();

  get(needles: Map<string, Postings>): SubstringIndex | null {
    let key = '';
    for (const [needle, p] of needles) key += `${needle}\u0000${p.join(',')}\u0001`;
    let index = this.#built.get(key);
    if (index === undefined) {
      index = substringIndex(needles);
      this.#built.set(key, index);
    }
    return index;
  }
}

export function substringIndex(needles: Map<string, Postings>): SubstringIndex | null {
  if (needles.size === 0) return null;
  if (needles.size < AC_MIN_NEEDLES) return new NeedleList(needles);
  const dfa = AsciiDfa.build(needles);
  if (dfa) return dfa;
  // Too many distinct characters for the class table (CommandLine: 1,315, from a few rules'
  // Unicode look-alikes): needles of ASCII and the most used other characters (windash's
  // dashes) in a DFA, the rest in the sparse automaton.
  const uses = new Map<number, number>();
  for (const needle of needles.keys()) for (const c of new Set(needle)) if (c.charCodeAt(0) >= 128) uses.set(c.charCodeAt(0), (uses.get(c.charCodeAt(0)) ?? 0) + 1);
  const common = new Set([...uses].sort((a, b) => b[1] - a[1]).slice(0, DFA_WIDE_CHARS).map(([c]) => c));
  const dense = new Map<string, Postings>();
  const other = new Map<string, Postings>();
  for (const [needle, p] of needles) {
    let ok = true;
    for (let i = 0; i < needle.length && ok; i++) ok = needle.charCodeAt(i) < 128 || common.has(needle.charCodeAt(i));
    (ok ? dense : other).set(needle, p);
  }
  const first = dense.size ? AsciiDfa.build(dense) : null;
  if (!first) return new AhoCorasick(needles);
  return new BothIndexes(first, other.size < AC_MIN_NEEDLES ? new NeedleList(other) : new AhoCorasick(other));
}

export interface SubstringIndex {
  scan(s: string, to: Marker): void;
}

class BothIndexes implements SubstringIndex {
  readonly #a: SubstringIndex;
  readonly #b: SubstringIndex;
  constructor(a: SubstringIndex, b: SubstringIndex) {
    this.#a = a;
    this.#b = b;
  }
  scan(s: string, to: Marker): void {
    this.#a.scan(s, to);
    this.#b.scan(s, to);
  }
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
export class AhoCorasick implements SubstringIndex {
  readonly #rootAscii: Int32Array;
  readonly #rootOther: Map<number, number>;
  /** Single-child nodes: the child's character (-1 when the node has 0 or several children) and node. */
  readonly #oneChar: Int32Array;
  readonly #oneNext: Int32Array;
  readonly #many: (Map<number, number> | null)[];
  /** Filled breadth-first after construction starts, then adopted (shared-arrays.ts). */
  #fail: Int32Array;
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
    ({ rootAscii: this.#rootAscii, rootOther: this.#rootOther, oneChar: this.#oneChar, oneNext: this.#oneNext, many: this.#many } = compactChildren(next));
    this.#fail = int32(next.length);
    this.#out = out;
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
    this.#fail = adopt(this.#fail);
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
