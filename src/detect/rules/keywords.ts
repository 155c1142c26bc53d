/** Keyword (any field contains) needles of a whole detector, scanned once per event. */
import type { FieldValue } from '../../map/types.ts';
import type { EventView } from './event-view.ts';
import { isAscii } from './sigma-string.ts';
import { AsciiDfa } from './dfa.ts';
import { AhoCorasick, substringIndex, type Marker, type Postings, type SubstringIndex } from './automata.ts';

/**
 * The keyword needles (any field contains) of every route of a detector, with one event scan
 * shared by all of them: a Windows event meets several routes with keyword rules (e.g. the
 * product-only ones), and each used to scan all of the event's values again. Needles get ids;
 * a route keeps its postings by id. ASCII needles are found in the original values folded on
 * the fly (no lower-cased copies); the others in the lower-cased values.
 */
/** Every character String(x) can produce for a number or boolean (lower-cased: needles are). */
const SCALAR_TEXT = /^[0-9.e+\-infinityaslrut]*$/;

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
  /**
   * Leaves shorter than the shortest ASCII needle cannot contain one: folding gives each character at most
   * one ASCII character. (Not so for the other needles: lower-casing İ gives two characters.)
   */
  #minAscii = 0;
  /** Some needle could occur in a number's or boolean's string form (only digits, `.`, `-`, `e`, … in it). */
  #scalarNeedles = true;

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
    let min = Infinity;
    for (const needle of ascii.keys()) min = Math.min(min, needle.length);
    this.#minAscii = Number.isFinite(min) ? min : 0;
    this.#scalarNeedles = [...this.#ids.keys()].some((n) => SCALAR_TEXT.test(n));
    this.#seen = new Uint32Array(this.#ids.size);
    this.#found = new Int32Array(this.#ids.size);
    this.#scanned = 0;
    this.#built = true;
  }

  /** Builds the automata now rather than at the first scan, so they are compiled with the rest (and shareable). */
  prepare(): void {
    if (!this.#built) this.#build();
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
    this.#leaves(view.fields);
    return this.#count;
  }

  /** Every leaf value of the event, in EventView.allValues() order and stringification. */
  #leaves(v: FieldValue): void {
    if (v === null) return;
    if (typeof v === 'string') {
      this.#scanLeaf(v);
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      if (this.#scalarNeedles) this.#scanLeaf(String(v));
    }
    else if (Array.isArray(v)) for (const x of v as readonly FieldValue[]) this.#leaves(x);
    else {
      const o = v as Readonly<Record<string, FieldValue>>;
      for (const key in o) this.#leaves(o[key]!);
    }
  }

  #scanLeaf(x: string): void {
    if (this.#ascii && x.length >= this.#minAscii) this.#ascii.scanFolded(x, this);
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
