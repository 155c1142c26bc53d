/**
 * Regexes for the `re` modifier, compiled so that no pattern/input pair can stall a worker.
 *
 * Rule regexes run on attacker-controlled text (command lines, script blocks), and V8's default
 * engine (Irregexp) backtracks: `(a+)+$` on 26 `a`s and a `!` takes ~4 s (doubling with each
 * `a`), and SigmaHQ's own `[^/]{100,}$` takes ~1 s on a 32 KB file name.
 *
 * Approach: Irregexp with V8's linear-time fallback. Before the first rule regex is compiled we
 * set, with v8.setFlagsFromString (V8 reads them when it compiles each RegExp),
 * `--enable-experimental-regexp-engine` (the `l` flag) and
 * `--enable-experimental-regexp-engine-on-excessive-backtracks`: a match that backtracks more than
 * `--regexp-backtracks-before-fallback` (50,000) times is restarted on the linear engine, an NFA
 * simulation whose cost is O(pattern × input). Measured on SigmaHQ's 217 regexes over ordinary
 * command lines (test/unit/detect/bench-regex.ts): 0.43 µs per test plain, 0.60 µs guarded,
 * 9.9 µs on the linear engine alone; `(a+)+$` on 31 chars 1.6 ms, `[^/]{100,}$` on 32 KB 62 ms.
 *
 * V8 only falls back for patterns its linear engine can run, so every pattern is first rewritten
 * into an equivalent one it accepts, and compiled once with `l` to prove it:
 *  - the `i` flag (refused by the linear engine): the pattern's literals are lower-cased and its
 *    classes get the lower-case variants of their members (`[A-F]` → `[A-Fa-f]`), and the regex
 *    runs on the lower-cased field value the matcher caches anyway. Irregexp stays as fast as
 *    with `/i` (a `[wW][eE]…` rewrite was measured hundreds of times slower on a literal-heavy
 *    pattern, because Irregexp can no longer scan for the literal);
 *  - counted repetitions whose nesting multiplies past 16 (`{100,}`, `{1,256}`): see repeat().
 * `test()` asks only whether a match exists, so rewrites keep the language and may change
 * capture groups and laziness. A pattern that still cannot run in linear time (backreferences,
 * lookaheads) is refused with a reason rather than run unguarded.
 *
 * The same pass computes the shortest possible match (values shorter than it are skipped without
 * running the regex, e.g. `.{1000,}`) and a literal every match contains (the prefilter's witness).
 */
import v8 from 'node:v8';
import { isAscii } from './sigma-string.ts';

let engineEnabled = false;
function enableLinearFallback(): void {
  if (engineEnabled) return;
  v8.setFlagsFromString('--enable-experimental-regexp-engine');
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  engineEnabled = true;
}

/** Largest product of nested repetition counts V8's linear engine accepts (measured: a{16} yes, a{17} and (?:a{4}){5} no). */
const MAX_LINEAR_COUNT = 16;

export type RegexFlag = 'i' | 'm' | 's';

export type SafeRegexResult =
  | {
      ok: true;
      regex: RegExp;
      /** The same pattern on V8's linear engine: for long values (see LINEAR_FROM). */
      linear: RegExp;
      source: string;
      /** Test the lower-cased value (the `i` flag was compiled into the pattern). */
      lowercaseInput: boolean;
      /** Values shorter than this cannot match (a cheap skip, e.g. for `.{1000,}`). */
      minLength: number;
      /** Lower-cased ASCII text every match contains ('' if none is known): the prefilter's witness. */
      literal: string;
    }
  | { ok: false; reason: string };

/**
 * Compiles `pattern` (Sigma's PCRE subset, a leading `(?i)` already turned into a flag) so that
 * it runs in bounded time on any input. Never throws.
 */
export function compileSafeRegex(pattern: string, flags: ReadonlySet<RegexFlag>): SafeRegexResult {
  enableLinearFallback();
  const f = (flags.has('m') ? 'm' : '') + (flags.has('s') ? 's' : '');
  try {
    new RegExp(pattern, f + (flags.has('i') ? 'i' : '')); // syntax check on the original
  } catch (e) {
    return { ok: false, reason: `invalid regular expression: ${(e as Error).message}` };
  }
  let rw: Rewritten;
  let linear: RegExp;
  try {
    rw = rewritePattern(pattern, flags.has('i'));
    linear = new RegExp(rw.source, f + 'l'); // also proves V8 can fall back to the linear engine for it
  } catch {
    return {
      ok: false,
      reason: `regular expression /${pattern}/ cannot be guaranteed to run in linear time (backreferences and lookaheads are not supported); rewrite it without them`,
    };
  }
  return { ok: true, regex: new RegExp(rw.source, f), linear, source: rw.source, lowercaseInput: flags.has('i'), minLength: rw.minLength, literal: rw.literal };
}

/**
 * Values at least this long are tested on the linear engine directly. The backtracking fallback counts
 * backtracks per start position, so a pattern like SigmaHQ's `set.*&&\s?set.*(…).*&&.*"` on 8 KB of
 * `set x=1&&` stays under the fallback's threshold at every one of 8,000 positions and takes ~0.35 s
 * (32 KB: ~3 s); the linear engine takes 1.6 ms. Below this length Irregexp is faster (~0.4 µs vs ~10 µs
 * per test on ordinary command lines) and its worst case is a few milliseconds.
 */
export const LINEAR_FROM = 512;

/** Leading Python-style inline flags such as `(?i)` or `(?ms)`: returned as flags, stripped from the pattern. */
export function stripInlineFlags(pattern: string): { pattern: string; flags: RegexFlag[] } | { error: string } {
  const m = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (!m) return { pattern, flags: [] };
  const flags: RegexFlag[] = [];
  for (const c of m[1]!) {
    if (c === 'i' || c === 'm' || c === 's') flags.push(c);
    else return { error: `inline regex flag '${c}' in (?${m[1]}) is not supported (supported: i, m, s)` };
  }
  return { pattern: pattern.slice(m[0].length), flags };
}

// ---------------------------------------------------------------------------------------------
// Pattern rewriting. A single left-to-right pass that copies the pattern, remembering where the
// last atom started in the output so a following quantifier can be rewritten around it.

interface Rewritten {
  readonly source: string;
  /** Shortest string the pattern can match. */
  readonly minLength: number;
  /** A literal every match contains (the longest top-level run), lower-cased ASCII; '' if none known. */
  readonly literal: string;
}

function rewritePattern(p: string, ignoreCase: boolean): Rewritten {
  let out = '';
  let atomStart = -1; // output index where the last quantifiable atom begins, -1 if none
  let atomFactor = 1; // the linear engine's replication factor inside that atom
  let atomMin = 0; // shortest match of that atom
  // Open groups: output start, largest replication factor inside, shortest match of the finished
  // alternatives and of the current one; lookarounds match no characters.
  interface Group {
    start: number;
    factor: number;
    altMin: number;
    cur: number;
    look: boolean;
  }
  const groups: Group[] = [{ start: 0, factor: 1, altMin: Infinity, cur: 0, look: false }];
  const top = () => groups[groups.length - 1]!;
  // Required literal: runs of literal characters at the top level, broken by anything else.
  let run = '';
  let best = '';
  let lastInRun = false;
  let topAlternation = false;
  const flush = () => {
    if (run.length > best.length) best = run;
    run = '';
    lastInRun = false;
  };
  const atom = (text: string, literal: string | null) => {
    atomStart = out.length;
    atomFactor = 1;
    atomMin = 1;
    top().cur += 1;
    out += text;
    if (groups.length === 1 && literal !== null) {
      run += literal;
      lastInRun = true;
    } else if (groups.length === 1) flush();
  };
  const quantified = (min: number) => {
    if (lastInRun) {
      if (min === 0) run = run.slice(0, -1);
      flush();
    }
    top().cur += atomMin * (min - 1);
  };
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const e = readEscape(p, i, ignoreCase);
      if (e.atom) atom(e.text, e.ch);
      else {
        out += e.text;
        atomStart = -1;
        if (groups.length === 1) flush();
      }
      i += e.len;
    } else if (c === '[') {
      const { text, len } = readClass(p, i, ignoreCase);
      atom(text, null);
      i += len;
    } else if (c === '(') {
      if (groups.length === 1) flush();
      const m = /^\((\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>|[a-zA-Z-]+:))?/.exec(p.slice(i))!;
      groups.push({ start: out.length, factor: 1, altMin: Infinity, cur: 0, look: /^\(\?(=|!|<=|<!)/.test(m[0]) });
      out += m[0];
      i += m[0].length;
      atomStart = -1;
    } else if (c === ')') {
      const g = groups.pop();
      if (g === undefined || groups.length === 0) throw new Error(`unbalanced ')' at ${i}`);
      out += ')';
      atomStart = g.start;
      atomFactor = g.factor;
      atomMin = g.look ? 0 : Math.min(g.altMin, g.cur);
      top().factor = Math.max(top().factor, g.factor);
      top().cur += atomMin;
      i++;
    } else if (c === '*' || c === '+' || c === '?') {
      if (atomStart >= 0) quantified(c === '+' ? 1 : 0);
      out += c;
      i++;
      if (p[i] === '?') i++; // lazy: same language, and test() only asks whether a match exists
      atomStart = -1;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
      if (!m || atomStart < 0) {
        atom('\\{', '{'); // Annex B: a brace that does not form a quantifier is a literal
        i++;
        continue;
      }
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new Error(`numbers out of order in ${m[0]}`);
      i += m[0].length;
      if (p[i] === '?') i++;
      quantified(min);
      const r = repeat(out.slice(atomStart), atomFactor, min, max);
      out = out.slice(0, atomStart) + r.text;
      top().factor = Math.max(top().factor, r.factor);
      atomStart = -1;
    } else if (c === '|') {
      const g = top();
      g.altMin = Math.min(g.altMin, g.cur);
      g.cur = 0;
      if (groups.length === 1) topAlternation = true;
      out += c;
      i++;
      atomStart = -1;
    } else if (c === '^' || c === '$') {
      if (groups.length === 1) flush();
      out += c;
      i++;
      atomStart = -1;
    } else if (c === '.') {
      atom('.', null);
      i++;
    } else {
      atom(ignoreCase ? foldChar(c) : c, c);
      i++;
    }
  }
  if (groups.length !== 1) throw new Error('unterminated group');
  flush();
  const g = groups[0]!;
  const literal = topAlternation || !isAscii(best) ? '' : best.toLowerCase();
  return { source: out, minLength: Math.min(g.altMin, g.cur), literal };
}

/**
 * `atom` repeated min..max times. V8's linear engine unrolls counted repetitions and refuses a
 * nesting whose counts multiply past 16 but accepts any number of them in sequence, so large
 * counts become blocks of at most `16 / inner` repetitions: `X{40}` → `(?:X){16}(?:X){16}(?:X){8}`
 * and `X{0,40}` → `(?:(?:X){16}(?:(?:X){16}(?:X){0,8}|(?:X){0,15})|(?:X){0,15})`. Each count has
 * exactly one decomposition, so Irregexp does not backtrack over block boundaries (a sequence of
 * `X{0,16}` blocks was measured 600× slower on a failing match).
 */
function repeat(atom: string, inner: number, min: number, max: number): { text: string; factor: number } {
  const block = Math.floor(MAX_LINEAR_COUNT / inner);
  const g = `(?:${atom})`;
  const q = (lo: number, hi: number) => (lo === hi ? `{${lo}}` : `{${lo},${hi === Infinity ? '' : hi}}`);
  const count = max === Infinity ? min : max;
  if (block < 1 || count <= block) return { text: g + q(min, max), factor: inner * Math.max(count, 1) };
  let text = '';
  for (let n = min; n > 0; n -= block) text += g + q(Math.min(n, block), Math.min(n, block)); // exactly min
  if (max === Infinity) text += `${g}*`;
  else if (max > min) text += upTo(g, max - min, block);
  return { text, factor: inner * block };
}

function upTo(g: string, k: number, block: number): string {
  if (k <= block) return `${g}{0,${k}}`;
  return `(?:${g}{${block}}${upTo(g, k - block, block)}|${g}{0,${block - 1}})`;
}

function readEscape(p: string, i: number, ignoreCase: boolean): { text: string; len: number; atom: boolean; ch: string | null } {
  const n = p[i + 1];
  if (n === undefined) throw new Error('\\ at end of pattern');
  if (n === 'b' || n === 'B') return { text: p.slice(i, i + 2), len: 2, atom: false, ch: null };
  if ('dDwWsS'.includes(n) || /[1-9]/.test(n) || n === 'k') {
    // Classes are closed under case already; backreferences are left for the engine to refuse.
    const m = /^\\(\d+|k<[^>]*>|.)/s.exec(p.slice(i))!;
    return { text: m[0], len: m[0].length, atom: true, ch: null };
  }
  const { ch, len } = escapedChar(p, i);
  return { text: ignoreCase ? foldChar(ch) : p.slice(i, i + len), len, atom: true, ch };
}

/** The literal character an escape stands for (`\x41`, `\u0041`, `\t`, `\.`, …). */
function escapedChar(p: string, i: number): { ch: string; len: number } {
  const n = p[i + 1]!;
  const hex = (len: number) => {
    const h = p.slice(i + 2, i + 2 + len);
    return /^[0-9a-fA-F]+$/.test(h) && h.length === len ? { ch: String.fromCharCode(parseInt(h, 16)), len: len + 2 } : { ch: n, len: 2 };
  };
  switch (n) {
    case 'x':
      return hex(2);
    case 'u':
      return hex(4);
    case 't':
      return { ch: '\t', len: 2 };
    case 'n':
      return { ch: '\n', len: 2 };
    case 'r':
      return { ch: '\r', len: 2 };
    case 'v':
      return { ch: '\v', len: 2 };
    case 'f':
      return { ch: '\f', len: 2 };
    case '0':
      return { ch: '\0', len: 2 };
    case 'c': {
      const l = p[i + 2];
      if (l && /[A-Za-z]/.test(l)) return { ch: String.fromCharCode(l.charCodeAt(0) % 32), len: 3 };
      return { ch: '\\', len: 1 };
    }
    default:
      return { ch: n, len: 2 };
  }
}

/** A character class copied as is, or with the case variants of its members added. */
function readClass(p: string, i: number, ignoreCase: boolean): { text: string; len: number } {
  let j = i + 1;
  if (p[j] === '^') j++;
  const members: [number, number][] = [];
  while (j < p.length && p[j] !== ']') {
    let code: number | undefined;
    if (p[j] === '\\') {
      const n = p[j + 1];
      if (n !== undefined && 'dDwWsSbB'.includes(n)) {
        j += 2;
        continue;
      }
      const e = escapedChar(p, j);
      code = e.ch.charCodeAt(0);
      j += e.len;
    } else {
      code = p.charCodeAt(j);
      j++;
    }
    if (p[j] === '-' && p[j + 1] !== undefined && p[j + 1] !== ']') {
      // a range lo-hi
      j++;
      let hi: number;
      if (p[j] === '\\') {
        const n = p[j + 1];
        if (n !== undefined && 'dDwWsS'.includes(n)) {
          members.push([code, code]); // [a-\d] is `a`, `-` and \d in Annex B
          j += 2;
          continue;
        }
        const e = escapedChar(p, j);
        hi = e.ch.charCodeAt(0);
        j += e.len;
      } else {
        hi = p.charCodeAt(j);
        j++;
      }
      members.push([code, hi]);
      continue;
    }
    members.push([code, code]);
  }
  if (j >= p.length) throw new Error('unterminated character class');
  const original = p.slice(i, j + 1);
  if (!ignoreCase) return { text: original, len: j + 1 - i };
  let extra = '';
  for (const [lo, hi] of members) extra += caseVariantsOfRange(lo, hi);
  return { text: original.slice(0, -1) + extra + ']', len: j + 1 - i };
}

const u = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;

/** Non-unicode `/i` canonicalisation (ECMA-262 Canonicalize with rer.[[IgnoreCase]] and no unicode). */
function canon(ch: string): string {
  const up = ch.toUpperCase();
  if (up.length !== 1) return ch;
  if (ch.charCodeAt(0) >= 128 && up.charCodeAt(0) < 128) return ch;
  return up;
}

function variants(ch: string): string[] {
  const c = canon(ch);
  const out = new Set<string>();
  for (const d of [ch, c, c.toLowerCase(), ch.toLowerCase()]) if (d.length === 1 && canon(d) === c) out.add(d);
  return [...out];
}

/** A literal of an `i` pattern, as it appears in lower-cased input. */
function foldChar(ch: string): string {
  const lows = [...new Set(variants(ch).map((v) => v.toLowerCase()))].filter((v) => v.length === 1);
  if (lows.length === 1 && /\w/.test(lows[0]!)) return lows[0]!;
  if (lows.length === 0) return u(ch.charCodeAt(0));
  return lows.length === 1 ? u(lows[0]!.charCodeAt(0)) : `[${lows.map((v) => u(v.charCodeAt(0))).join('')}]`;
}

/** Lower-case variants of the members lo..hi of a class in an `i` pattern. */
function caseVariantsOfRange(lo: number, hi: number): string {
  let extra = '';
  const s = Math.max(lo, 65);
  const e = Math.min(hi, 90);
  if (s <= e) extra += `${u(s + 32)}-${u(e + 32)}`; // ASCII upper-case letters as one range
  // Other characters one by one (ranges over 2,000 non-ASCII characters are left as they are).
  const from = Math.max(lo, 128);
  if (hi >= from && hi - from <= 2000) {
    for (let c = from; c <= hi; c++) {
      for (const v of variants(String.fromCharCode(c))) {
        const l = v.toLowerCase();
        if (l.length === 1 && l.charCodeAt(0) !== c) extra += u(l.charCodeAt(0));
      }
    }
  }
  return extra;
}
