/**
 * Value modifiers (Sigma spec appendix "Modifiers", pySigma `modifiers.py`): a detection item's
 * YAML values become typed values, and each modifier of the chain is applied left to right.
 * Expansions (`windash`, `base64offset`, `expand` with several values) stay one OR-group per
 * original value, also under `all`. Nothing here matches events; see values.ts for that.
 */
import { parseCidr, type Cidr } from './cidr.ts';
import { stripInlineFlags, type RegexFlag } from './regex.ts';
import { hasWildcards, literalText, parseSigmaString, showParts, STAR, type Part } from './sigma-string.ts';

export type TimeUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';
export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte';

export type SigmaValue =
  /** `bytes`: the literal parts hold bytes (one char per byte), after wide/utf16*. */
  | { readonly t: 'str'; readonly parts: readonly Part[]; readonly cased: boolean; readonly bytes: boolean }
  /** `text`: the number as written in the rule (`0x3e7`, `010`), also matched. */
  | { readonly t: 'num'; readonly n: number; readonly text: string }
  | { readonly t: 'bool'; readonly b: boolean }
  | { readonly t: 'null' }
  | { readonly t: 're'; readonly pattern: string; readonly flags: ReadonlySet<RegexFlag> }
  | { readonly t: 'cidr'; readonly net: Cidr; readonly text: string }
  | { readonly t: 'fieldref'; readonly field: string; readonly sw: boolean; readonly ew: boolean }
  | { readonly t: 'exists'; readonly b: boolean }
  | { readonly t: 'cmp'; readonly op: CompareOp; readonly n: number; readonly unit: TimeUnit | undefined }
  | { readonly t: 'time'; readonly unit: TimeUnit; readonly n: number }
  /** OR of alternatives produced by one original value. */
  | { readonly t: 'exp'; readonly items: readonly SigmaValue[] };

/** A YAML scalar of a detection item before modifiers. `source` is the text as written. */
export type RawValue = { readonly kind: 'str'; readonly s: string } | { readonly kind: 'num'; readonly n: number; readonly source: string } | { readonly kind: 'bool'; readonly b: boolean } | { readonly kind: 'null' };

export const KNOWN_MODIFIERS = [
  'all',
  'base64',
  'base64offset',
  'cased',
  'cidr',
  'contains',
  'day',
  'dotall',
  'endswith',
  'exists',
  'expand',
  'fieldref',
  'gt',
  'gte',
  'hour',
  'i',
  'ignorecase',
  'lt',
  'lte',
  'm',
  'minute',
  'month',
  'multiline',
  'neq',
  're',
  's',
  'startswith',
  'utf16',
  'utf16be',
  'utf16le',
  'week',
  'wide',
  'windash',
  'year',
] as const;
export type Modifier = (typeof KNOWN_MODIFIERS)[number];
const KNOWN = new Set<string>(KNOWN_MODIFIERS);
export const isModifier = (m: string): m is Modifier => KNOWN.has(m);

/** Modifiers that act on the whole item rather than on each value. */
const LIST_MODIFIERS: ReadonlySet<Modifier> = new Set<Modifier>(['all', 'neq']);
/** Modifiers that must come first (pySigma: they only take unmodified values). */
const FIRST_ONLY: ReadonlySet<Modifier> = new Set<Modifier>(['re', 'cidr', 'exists']);

export class ModifierError extends Error {}

export interface ModifierContext {
  /** `%name%` → values, for `expand`. */
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  /** The item has a field name (keywords have none). */
  readonly hasField: boolean;
}

/** Applies the value modifiers of `mods` (in order; list modifiers are skipped here) to one raw value. */
export function applyModifiers(raw: RawValue, mods: readonly Modifier[], ctx: ModifierContext): SigmaValue {
  const valueMods = mods.filter((m) => !LIST_MODIFIERS.has(m));
  valueMods.forEach((m, i) => {
    if (i > 0 && FIRST_ONLY.has(m)) throw new ModifierError(`modifier '${m}' must come first in the chain (it only takes unmodified values)`);
  });
  let v = initialValue(raw, valueMods[0]);
  for (const m of valueMods) v = apply(m, v, ctx, raw);
  return v;
}

function initialValue(raw: RawValue, first: Modifier | undefined): SigmaValue {
  switch (raw.kind) {
    case 'null':
      if (first !== undefined) throw new ModifierError(`a null value cannot take modifier '${first}'`);
      return { t: 'null' };
    case 'bool':
      return { t: 'bool', b: raw.b };
    case 'num':
      return { t: 'num', n: raw.n, text: raw.source };
    case 'str':
      if (first === 're') {
        // Python-style leading inline flags (`(?i)`, 16 SigmaHQ regexes) become flags; JS has no such syntax.
        const st = stripInlineFlags(raw.s);
        if ('error' in st) throw new ModifierError(st.error);
        return { t: 're', pattern: st.pattern, flags: new Set(st.flags) };
      }
      return { t: 'str', parts: parseSigmaString(raw.s), cased: false, bytes: false };
  }
}

const str = (parts: readonly Part[], from?: SigmaValue): SigmaValue => ({
  t: 'str',
  parts,
  cased: from?.t === 'str' ? from.cased : false,
  bytes: from?.t === 'str' ? from.bytes : false,
});

/** Numbers and booleans take string modifiers as their string form (as THOR and most backends do). */
function asString(v: SigmaValue, m: Modifier): Extract<SigmaValue, { t: 'str' }> {
  if (v.t === 'str') return v;
  if (v.t === 'num') return { t: 'str', parts: [v.text], cased: false, bytes: false };
  if (v.t === 'bool') return { t: 'str', parts: [String(v.b)], cased: false, bytes: false };
  throw new ModifierError(`modifier '${m}' does not apply to a ${describe(v)}`);
}

function describe(v: SigmaValue): string {
  switch (v.t) {
    case 'str':
      return 'string';
    case 'num':
      return 'number';
    case 'bool':
      return 'boolean';
    case 'null':
      return 'null value';
    case 're':
      return 'regular expression';
    case 'cidr':
      return 'CIDR network';
    case 'fieldref':
      return 'field reference';
    case 'exists':
      return 'exists test';
    case 'cmp':
      return 'comparison';
    case 'time':
      return 'timestamp part';
    case 'exp':
      return 'expansion';
  }
}

function apply(m: Modifier, v: SigmaValue, ctx: ModifierContext, raw: RawValue): SigmaValue {
  if (v.t === 'exp') {
    const items: SigmaValue[] = [];
    for (const it of v.items) {
      const r = apply(m, it, ctx, raw);
      if (r.t === 'exp') items.push(...r.items);
      else items.push(r);
    }
    return { t: 'exp', items };
  }
  switch (m) {
    case 'contains':
    case 'startswith':
    case 'endswith': {
      if (v.t === 're') return v; // a regex is a search already: pySigma's added `.*` change nothing
      if (v.t === 'fieldref') return { ...v, sw: v.sw || m !== 'endswith', ew: v.ew || m !== 'startswith' };
      const s = asString(v, m);
      let parts = [...s.parts];
      if (m !== 'endswith' && parts[parts.length - 1] !== STAR) parts = [...parts, STAR];
      if (m !== 'startswith' && parts[0] !== STAR) parts = [STAR, ...parts];
      return str(parts, s);
    }
    case 'base64':
    case 'base64offset': {
      const s = asString(v, m);
      if (hasWildcards(s.parts)) throw new ModifierError(`modifier '${m}' cannot encode a value with wildcards ('${showParts(s.parts)}')`);
      const bytes = s.bytes ? Buffer.from(literalText(s.parts), 'latin1') : Buffer.from(literalText(s.parts), 'utf8');
      if (m === 'base64') return str([bytes.toString('base64')]);
      return { t: 'exp', items: base64Offsets(bytes).map((b) => str([b])) };
    }
    case 'wide':
    case 'utf16le':
    case 'utf16be':
    case 'utf16': {
      const s = asString(v, m);
      const enc = (p: string) => {
        const le = Buffer.from(p, 'utf16le');
        if (m === 'utf16be') le.swap16();
        return le.toString('latin1');
      };
      const parts = s.parts.map((p) => (typeof p === 'string' ? enc(p) : p));
      return { t: 'str', parts: m === 'utf16' ? ['\xff\xfe', ...parts] : parts, cased: s.cased, bytes: true };
    }
    case 'windash': {
      const s = asString(v, m);
      return { t: 'exp', items: windash(s.parts).map((parts) => str(parts, s)) };
    }
    case 'cased':
      return { ...asString(v, m), cased: true };
    case 're':
      if (v.t !== 're') throw new ModifierError(`modifier 're' needs a string value`);
      return v;
    case 'i':
    case 'ignorecase':
    case 'm':
    case 'multiline':
    case 's':
    case 'dotall': {
      if (v.t !== 're') throw new ModifierError(`regex flag modifier '${m}' needs a preceding 're'`);
      const flag: RegexFlag = m === 'ignorecase' ? 'i' : m === 'multiline' ? 'm' : m === 'dotall' ? 's' : m;
      return { ...v, flags: new Set([...v.flags, flag]) };
    }
    case 'cidr': {
      const s = asString(v, m);
      if (hasWildcards(s.parts)) throw new ModifierError(`modifier 'cidr' takes a network, not a wildcard pattern ('${showParts(s.parts)}')`);
      const text = literalText(s.parts);
      const net = parseCidr(text);
      if (typeof net === 'string') throw new ModifierError(`modifier 'cidr': ${net}`);
      return { t: 'cidr', net, text };
    }
    case 'fieldref': {
      const s = asString(v, m);
      if (hasWildcards(s.parts)) throw new ModifierError(`modifier 'fieldref' takes a field name without wildcards ('${showParts(s.parts)}')`);
      return { t: 'fieldref', field: literalText(s.parts), sw: false, ew: false };
    }
    case 'exists':
      if (!ctx.hasField) throw new ModifierError(`modifier 'exists' needs a field name`);
      if (v.t !== 'bool') throw new ModifierError(`modifier 'exists' takes true or false, not a ${describe(v)}`);
      return { t: 'exists', b: v.b };
    case 'expand':
      return expand(v, ctx);
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (v.t === 'time') return { t: 'cmp', op: m, n: v.n, unit: v.unit };
      const n = asNumber(v, m);
      return { t: 'cmp', op: m, n, unit: undefined };
    }
    case 'minute':
    case 'hour':
    case 'day':
    case 'week':
    case 'month':
    case 'year': {
      const n = asNumber(v, m);
      if (!Number.isInteger(n)) throw new ModifierError(`modifier '${m}' takes an integer, not ${n}`);
      return { t: 'time', unit: m, n };
    }
    case 'all':
    case 'neq':
      return v;
  }
}

function asNumber(v: SigmaValue, m: Modifier): number {
  if (v.t === 'num') return v.n;
  if (v.t === 'str' && !hasWildcards(v.parts)) {
    const text = literalText(v.parts).trim();
    if (text !== '' && Number.isFinite(Number(text))) return Number(text);
  }
  throw new ModifierError(`modifier '${m}' needs a number, not a ${describe(v)}`);
}

/**
 * pySigma's base64offset: for i = 0..2, base64 of (i spaces + value) cut to the characters that
 * do not depend on the unknown neighbouring bytes. `IEX` gives `SUVY`, `lFW`, `JRV`.
 */
export function base64Offsets(bytes: Buffer): string[] {
  const start = [0, 2, 3];
  const end = [undefined, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const enc = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString('base64');
    out.push(enc.slice(start[i], end[(bytes.length + i) % 3]));
  }
  return out;
}

const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];
/** pySigma: `\B[-/]\b`, a dash or slash not preceded by a word character and followed by one. */
const WINDASH_POINT = /(?<![\p{L}\p{N}_])[-/](?=[\p{L}\p{N}_])/gu;

/** Every combination of the five dash characters at each expansion point (5^n alternatives). */
export function windash(parts: readonly Part[]): Part[][] {
  let out: Part[][] = [[]];
  for (const p of parts) {
    if (typeof p !== 'string') {
      out = out.map((o) => [...o, p]);
      continue;
    }
    const pieces = p.split(WINDASH_POINT); // literal text between expansion points
    let variants = [pieces[0]!];
    for (let i = 1; i < pieces.length; i++) variants = variants.flatMap((pre) => DASHES.map((d) => pre + d + pieces[i]!));
    out = out.flatMap((o) => variants.map((t) => [...o, t]));
  }
  return out;
}

/** `%name%` placeholders in literal parts (`\%` is a literal percent sign), resolved from the configured values. */
function expand(v: SigmaValue, ctx: ModifierContext): SigmaValue {
  if (v.t === 're') {
    const pattern = v.pattern.replace(/\\%|%([^%]+)%/g, (all, name: string | undefined) => {
      if (name === undefined) return '%';
      return `(?:${lookup(name, ctx).map(escapeRegex).join('|')})`;
    });
    return { ...v, pattern };
  }
  const s = asString(v, 'expand');
  // Alternatives built part by part: each placeholder multiplies them by its values (OR).
  let alts: Part[][] = [[]];
  for (const p of s.parts) {
    if (typeof p !== 'string') {
      alts = alts.map((a) => [...a, p]);
      continue;
    }
    const re = /\\%|%([^%]+)%/g;
    let last = 0;
    let lit = '';
    for (let m = re.exec(p); m; m = re.exec(p)) {
      lit += p.slice(last, m.index);
      last = m.index + m[0].length;
      if (m[1] === undefined) {
        lit += '%';
        continue;
      }
      const values = lookup(m[1], ctx).map(parseSigmaString);
      const prefix = lit;
      alts = alts.flatMap((a) => values.map((val) => [...a, prefix, ...val]));
      lit = '';
    }
    lit += p.slice(last);
    alts = alts.map((a) => [...a, lit]);
  }
  const items = alts.map((parts) => str(parts, s));
  return items.length === 1 ? items[0]! : { t: 'exp', items };
}

function lookup(name: string, ctx: ModifierContext): readonly string[] {
  let values = ctx.placeholders[name];
  if (values === undefined) {
    const lower = name.toLowerCase();
    const key = Object.keys(ctx.placeholders).find((k) => k.toLowerCase() === lower);
    if (key !== undefined) values = ctx.placeholders[key];
  }
  if (values === undefined || values.length === 0) {
    throw new ModifierError(`placeholder %${name}% has no values: set rules.placeholders.${name} in the configuration (a list of values, OR-ed)`);
  }
  return values;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

