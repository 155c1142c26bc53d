/**
 * The compiled automata's typed arrays (DFA transition tables, trie children, suffix links) are the
 * same in every detection worker, since each compiles the same rule files, and never written once
 * built. One worker builds them in shared memory and publishes them; the others, compiling after it,
 * build theirs in a scratch arena and adopt an equal published array in their place. The arena is
 * one large allocation dropped whole after the compile: thousands of freed typed arrays would stay in
 * the C heap instead (measured: adopting without an arena saved no resident memory at all). Arrays are
 * matched by content (type, length, hash, then every element), so a build order that differs between
 * workers costs sharing, never correctness. Outside a share (tests, the CLI, hunt) these are plain
 * typed arrays.
 */
export type Shareable = Int32Array | Uint8Array;

/** Below this an array is not worth a SharedArrayBuffer (its page and header cost more than it saves). */
const MIN_BYTES = 4096;

export interface ArrayShare {
  /** A zeroed array to build in, then pass to adopt(). */
  alloc(n: number): Int32Array;
  adopt<T extends Shareable>(a: T): T;
  /** The compile is over: scratch memory can go. */
  finish(): void;
}

let current: ArrayShare | undefined;

/** A zeroed Int32Array for an automaton table that will be passed to adopt() once built. */
export function int32(n: number, fill = 0): Int32Array {
  const a = current === undefined || n * 4 < MIN_BYTES ? new Int32Array(n) : current.alloc(n);
  if (fill !== 0) a.fill(fill);
  return a;
}

/** The array the automaton should keep once built: `a` itself, or an equal one in shared memory. */
export function adopt<T extends Shareable>(a: T): T {
  return current === undefined || a.byteLength < MIN_BYTES ? a : current.adopt(a);
}

/** Runs a compile with `share` deciding what adopt() returns. */
export function withArrayShare<R>(share: ArrayShare | undefined, compile: () => R): R {
  current = share;
  try {
    return compile();
  } finally {
    current = undefined;
    share?.finish();
  }
}

/** The first worker's share: tables are built in shared memory and listed for the others. */
export class PublishingShare implements ArrayShare {
  readonly published: Shareable[] = [];

  alloc(n: number): Int32Array {
    return new Int32Array(new SharedArrayBuffer(n * 4));
  }

  adopt<T extends Shareable>(a: T): T {
    if (a.buffer instanceof SharedArrayBuffer) {
      this.published.push(a);
      return a;
    }
    const shared = new (a.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
    shared.set(a);
    this.published.push(shared);
    return shared;
  }

  finish(): void {}
}

/** Bump allocation in large chunks, released together when the last view into them is gone. */
class Arena {
  static readonly CHUNK = 64 * 1024 * 1024;
  #chunk: ArrayBuffer | undefined;
  #used = 0;

  alloc(n: number): Int32Array {
    const bytes = n * 4;
    if (bytes > Arena.CHUNK / 4) return new Int32Array(n);
    if (this.#chunk === undefined || this.#used + bytes > this.#chunk.byteLength) {
      this.#chunk = new ArrayBuffer(Arena.CHUNK);
      this.#used = 0;
    }
    const a = new Int32Array(this.#chunk, this.#used, n);
    this.#used += (bytes + 7) & ~7;
    return a;
  }

  holds(a: Shareable): boolean {
    return a.byteLength !== a.buffer.byteLength;
  }

  release(): void {
    this.#chunk = undefined;
  }
}

/** Another worker's share: an array equal to a published one is replaced by it. */
export class AdoptingShare implements ArrayShare {
  readonly #byKey = new Map<string, Shareable[]>();
  readonly #arena = new Arena();
  /** Bytes this worker does not hold because it adopted them. */
  adoptedBytes = 0;

  constructor(published: readonly Shareable[]) {
    for (const s of published) {
      const k = key(s);
      const list = this.#byKey.get(k);
      if (list) list.push(s);
      else this.#byKey.set(k, [s]);
    }
  }

  alloc(n: number): Int32Array {
    return this.#arena.alloc(n);
  }

  adopt<T extends Shareable>(a: T): T {
    for (const s of this.#byKey.get(key(a)) ?? []) {
      if (s.constructor === a.constructor && equal(s, a)) {
        this.adoptedBytes += a.byteLength;
        return s as T;
      }
    }
    // Not published (a rule file changed between the compiles?): kept, in memory of its own.
    return this.#arena.holds(a) ? (a.slice() as T) : a;
  }

  finish(): void {
    this.#arena.release();
  }
}

function key(a: Shareable): string {
  // FNV-1a over the elements: enough to make a content mismatch a rare full comparison.
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
  return `${a.constructor.name}:${a.length}:${h >>> 0}`;
}

function equal(x: Shareable, y: Shareable): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
