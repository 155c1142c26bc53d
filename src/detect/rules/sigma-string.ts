/**
 * Sigma string values: parsing (wildcards, backslash escapes) and the compiled
 * string tests. A value is a list of parts, literal text or a special part, as in pySigma's
 * SigmaString, so modifiers (`contains`, `wide`, `windash`, `expand`, …) can work on the parts
 * before anything is compiled.
 */

export const STAR: unique symbol = Symbol('*');
export const QMARK: unique symbol = Symbol('?');
/** Literal text or a wildcard. (`%placeholders%` are resolved by the `expand` modifier into text.) */
export type Part = string | typeof STAR | typeof QMARK;

/**
 * Splits a rule value into parts. Escaping (spec §"Escaping", pySigma SigmaString): a backslash
 * makes the next `*`, `?` or `\` literal; before any other character both are kept (`\W` stays
 * `\W`), and a trailing backslash is kept. So `\*` is a literal star, `\\*` a backslash and a
 * wildcard, `\\\*` a backslash and a literal star.
 */
export function parseSigmaString(raw: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  const flush = () => {
    if (lit) parts.push(lit);
    lit = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const n = raw[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        lit += n;
        i++;
      } else lit += c;
    } else if (c === '*') {
      flush();
      parts.push(STAR);
    } else if (c === '?') {
      flush();
      parts.push(QMARK);
    } else lit += c;
  }
  flush();
  return parts;
}

/** Merges adjacent literal parts (modifiers can produce them). */
function normaliseParts(parts: readonly Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    if (p === '') continue;
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

export const hasWildcards = (parts: readonly Part[]): boolean => parts.some((p) => p === STAR || p === QMARK);
export const literalText = (parts: readonly Part[]): string => parts.map((p) => (typeof p === 'string' ? p : '')).join('');

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/** Sigma text of the parts, for messages. */
export function showParts(parts: readonly Part[]): string {
  return parts.map((p) => (p === STAR ? '*' : p === QMARK ? '?' : p.replace(/[*?\\]/g, '\\$&'))).join('');
}

// ---------------------------------------------------------------------------------------------
// Compiled string tests. The shapes that cover nearly every SigmaHQ value run on plain string
// methods (no regex): exact, prefix, suffix, substring, "anything". Other wildcard patterns use
// the segment matcher below, which is linear in practice and never backtracks catastrophically.

export type StringTest =
  | { readonly k: 'eq'; readonly s: string }
  | { readonly k: 'sw'; readonly s: string }
  | { readonly k: 'ew'; readonly s: string }
  | { readonly k: 'ct'; readonly s: string }
  | { readonly k: 'any' }
  | { readonly k: 'glob'; readonly g: Glob };

/** Builds the test for parts. `fold` lower-cases the needles. */
export function stringTest(parts: readonly Part[], fold: boolean): StringTest {
  const ps = normaliseParts(parts).map((p) => (typeof p === 'string' && fold ? p.toLowerCase() : p));
  const n = ps.length;
  if (n === 0) return { k: 'eq', s: '' };
  if (!ps.includes(QMARK)) {
    const stars = ps.filter((p) => p === STAR).length;
    if (stars === 0) return { k: 'eq', s: ps[0] as string };
    if (n === 1 || ps.every((p) => p === STAR)) return { k: 'any' };
    if (n === 2 && ps[1] === STAR) return { k: 'sw', s: ps[0] as string };
    if (n === 2 && ps[0] === STAR) return { k: 'ew', s: ps[1] as string };
    if (n === 3 && ps[0] === STAR && ps[2] === STAR) return { k: 'ct', s: ps[1] as string };
  }
  return { k: 'glob', g: compileGlob(ps) };
}

export function runStringTest(t: StringTest, v: string): boolean {
  switch (t.k) {
    case 'eq':
      return v === t.s;
    case 'sw':
      return v.startsWith(t.s);
    case 'ew':
      return v.endsWith(t.s);
    case 'ct':
      return v.includes(t.s);
    case 'any':
      return true;
    case 'glob':
      return matchGlob(t.g, v);
  }
}

/** A segment: literal text in which `?` positions match any one character. */
interface Segment {
  readonly text: string;
  /** Per character of text: is it a `?` (any one character)? null when the segment has none. */
  readonly any: readonly boolean[] | null;
}
export interface Glob {
  /** Segments between `*`s; `anchoredStart`/`anchoredEnd` say whether the pattern begins/ends without `*`. */
  readonly segs: readonly Segment[];
  readonly anchoredStart: boolean;
  readonly anchoredEnd: boolean;
  readonly minLength: number;
}

function compileGlob(parts: readonly Part[]): Glob {
  const segs: Segment[] = [];
  let text = '';
  let any: boolean[] = [];
  let hasAny = false;
  const flush = () => {
    segs.push({ text, any: hasAny ? any : null });
    text = '';
    any = [];
    hasAny = false;
  };
  for (const p of parts) {
    if (p === STAR) flush();
    else if (p === QMARK) {
      text += '?';
      any.push(true);
      hasAny = true;
    } else if (typeof p === 'string') {
      text += p;
      for (let i = 0; i < p.length; i++) any.push(false);
    }
  }
  flush();
  // flush() at each STAR produced empty leading/trailing segments when the pattern starts/ends with `*`.
  const anchoredStart = parts[0] !== STAR;
  const anchoredEnd = parts[parts.length - 1] !== STAR;
  const kept = segs.filter((s, i) => s.text !== '' || (i === 0 && anchoredStart) || (i === segs.length - 1 && anchoredEnd));
  return { segs: kept, anchoredStart, anchoredEnd, minLength: kept.reduce((n, s) => n + s.text.length, 0) };
}

function segAt(s: Segment, v: string, pos: number): boolean {
  if (s.any === null) return v.startsWith(s.text, pos);
  if (pos + s.text.length > v.length) return false;
  for (let i = 0; i < s.text.length; i++) if (!s.any[i] && v.charCodeAt(pos + i) !== s.text.charCodeAt(i)) return false;
  return true;
}

function segFind(s: Segment, v: string, from: number, limit: number): number {
  if (s.any === null) {
    const i = v.indexOf(s.text, from);
    return i >= 0 && i + s.text.length <= limit ? i : -1;
  }
  for (let p = from; p + s.text.length <= limit; p++) if (segAt(s, v, p)) return p;
  return -1;
}

/** Wildcard match: anchored first/last segments, the middle ones found leftmost in order (exact for `*` globs). */
export function matchGlob(g: Glob, v: string): boolean {
  if (v.length < g.minLength) return false;
  const segs = g.segs;
  if (segs.length === 1 && g.anchoredStart && g.anchoredEnd) return v.length === segs[0]!.text.length && segAt(segs[0]!, v, 0);
  let start = 0;
  let end = v.length;
  let first = 0;
  let last = segs.length;
  if (g.anchoredStart) {
    if (!segAt(segs[0]!, v, 0)) return false;
    start = segs[0]!.text.length;
    first = 1;
  }
  if (g.anchoredEnd) {
    const s = segs[segs.length - 1]!;
    end = v.length - s.text.length;
    if (end < start || !segAt(s, v, end)) return false;
    last = segs.length - 1;
  }
  for (let i = first; i < last; i++) {
    const s = segs[i]!;
    const at = segFind(s, v, start, end);
    if (at < 0) return false;
    start = at + s.text.length;
  }
  return true;
}
