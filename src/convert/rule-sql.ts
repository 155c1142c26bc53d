/**
 * One Sigma rule → a ClickHouse condition over SigNoz `logs_v2` rows. The condition is a prefilter:
 * it may accept rows the rule does not match, but never rejects one the rule matches. Whatever cannot
 * be translated exactly is widened: to TRUE where it counts for the rule, to FALSE under a `not`
 * (the translation of `not X` is NOT(a condition that only accepts rows X surely matches)), and the
 * reason is reported.
 */
import { createHash } from 'node:crypto';
import { sqlString } from '../hunt/reader.ts';
import type { LogsourceMapping, LogsourceVariant } from '../map/types.ts';
import { parseCondition, type CondNode } from './condition.ts';
import { BODY, IS_JSON, IS_XML, jsonField, xmlField, type Aliases } from './signoz-fields.ts';
import { keywordCond, piecesCond, textCond } from './keyword-sql.ts';

export interface RuleSql {
  /** WHERE condition (widened where it could not be exact); refers to `aliases`. */
  readonly where: string;
  /** Field extractions the condition names: alias → expression (emit with withClause()). */
  readonly aliases: ReadonlyMap<string, string>;
  /** The logsource part alone (a coarser prefilter, for combining many rules). */
  readonly routing: string;
  /** Why the condition is wider than the rule; empty = exact for Windows JSON bodies. */
  readonly approximations: readonly string[];
  /** `where` as an OR of (routing AND detection), one per logsource variant: hunts group rules by routing. */
  readonly parts: readonly RulePart[];
}

export interface RulePart {
  /** An alias (registered in `aliases`) or '1'. */
  readonly routing: string;
  readonly det: string;
}

type Polarity = boolean; // true: may over-approximate (superset); false: may only under-approximate (subset)
const T = '1';
const F = '0';
const wide = (pos: Polarity): string => (pos ? T : F);

interface Ctx {
  readonly notes: Set<string>;
  readonly aliases: Aliases;
  readonly rename: Readonly<Record<string, string>>;
  /** The variant routes Windows events only: rows of other bodies never reach its field conditions. */
  readonly windowsOnly: boolean;
}

export function ruleToSql(detection: Record<string, unknown>, logsource: { product?: string; category?: string; service?: string }, mapping: LogsourceMapping): RuleSql {
  const notes = new Set<string>();
  const aliases: Aliases = new Map();
  const cond = detection['condition'];
  const conditions = Array.isArray(cond) ? cond.map(String) : [String(cond)];
  const entry = mapping.entries.find((e) => (e.product ?? '') === (logsource.product ?? '') && (e.category ?? '') === (logsource.category ?? '') && (e.service ?? '') === (logsource.service ?? ''));
  const variants: readonly LogsourceVariant[] = entry ? entry.variants : [mapping.fallback];
  if (!entry) notes.add('logsource has no mapping entry: not narrowed by logsource');
  const alternatives: string[] = [];
  const routes: string[] = [];
  const parts: RulePart[] = [];
  for (const v of variants) {
    const windowsOnly = (v.when['@product'] ?? []).length === 1 && String(v.when['@product']![0]).toLowerCase() === 'windows';
    const ctx: Ctx = { notes, aliases, rename: v.rename ?? {}, windowsOnly };
    const route = routeAlias(and(Object.entries(v.when).map(([k, vals]) => routingSql(k, vals, ctx))), aliases);
    routes.push(route);
    let det: string;
    try {
      det = or(conditions.map((c) => node(parseCondition(c), detection, ctx, true)));
    } catch (e) {
      notes.add(`untranslatable condition: ${(e as Error).message}`);
      det = T;
    }
    alternatives.push(and([route, det]));
    if (route !== F && det !== F) parts.push({ routing: route, det });
  }
  return { where: or(alternatives), routing: or(routes), aliases, approximations: [...notes], parts };
}

/** A logsource condition as a named alias: a few dozen distinct ones serve thousands of rules. */
function routeAlias(cond: string, aliases: Aliases): string {
  if (cond === T || cond === F) return cond;
  const name = `r_${createHash('sha1').update(cond).digest('hex').slice(0, 10)}`;
  aliases.set(name, cond);
  return name;
}

/** A logsource `when` key: Channel/EventID/Provider_Name/EventType read from the row; @meta keys are not narrowed. */
function routingSql(key: string, vals: readonly (string | number)[], ctx: Ctx): string {
  // Windows events come only from JSON map bodies or XML bodies; other meta facts follow from Channel/EventID.
  if (key === '@product' && vals.length === 1 && String(vals[0]).toLowerCase() === 'windows') return `(${IS_JSON}) OR (${IS_XML})`;
  // Rows the Windows mapper claims (map bodies naming event_id) never reach a Linux, generic or appliance rule.
  if ((key === '@product' || key === '@source') && !vals.some((x) => String(x).toLowerCase() === 'windows')) return `NOT ${IS_JSON}`;
  if (key.startsWith('@')) return T;
  return fieldCond(key, vals.map((x) => ({ kind: 'like' as const, pattern: likeExact(String(x)), literal: String(x) })), 'any', true, ctx);
}

function node(n: CondNode, det: Record<string, unknown>, ctx: Ctx, pos: Polarity): string {
  switch (n.kind) {
    case 'and': return and(n.parts.map((p) => node(p, det, ctx, pos)));
    case 'or': return or(n.parts.map((p) => node(p, det, ctx, pos)));
    case 'not': return not(node(n.part, det, ctx, !pos));
    case 'id': {
      const sel = det[n.name];
      if (sel === undefined) throw new Error(`unknown selection "${n.name}"`);
      return selection(sel, ctx, pos);
    }
    case 'of': {
      const names = Object.keys(det).filter((k) => k !== 'condition' && k !== 'timeframe' && (n.pattern === 'them' ? !k.startsWith('_') : globMatch(n.pattern, k)));
      const parts = names.map((k) => selection(det[k], ctx, pos));
      return n.quantifier === 'all' ? and(parts) : or(parts);
    }
  }
}

function selection(sel: unknown, ctx: Ctx, pos: Polarity): string {
  const isMap = (x: unknown): boolean => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isMap(sel)) return fieldMap(sel as Record<string, unknown>, ctx, pos);
  // A list is an OR of its maps and its keywords (the engine's compile.ts reads it the same way).
  const items = Array.isArray(sel) ? sel : [sel];
  return or(items.map((x) => (isMap(x) ? fieldMap(x as Record<string, unknown>, ctx, pos) : keyword(x, ctx, pos))));
}

/** A keyword (any field contains it): literal pieces of it in the row's text, a superset only, so never under a `not`. */
function keyword(v: unknown, ctx: Ctx, pos: Polarity): string {
  ctx.notes.add('keyword search: prefilter only');
  if (!pos || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) return wide(pos);
  return keywordCond(String(v), ctx.aliases);
}

type Matcher = {
  readonly kind: 'like'; readonly pattern: string; readonly cased?: boolean; readonly literal: string;
  /** `contains` of a value without wildcards: the text itself. */
  readonly contains?: string;
} | { readonly kind: 're'; readonly re: string; readonly flags: string } | { readonly kind: 'cidr'; readonly net: string };

function fieldMap(m: Record<string, unknown>, ctx: Ctx, pos: Polarity): string {
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(m)) {
    const [name = '', ...mods] = key.split('|');
    const field = ctx.rename[name] ?? name;
    const values = Array.isArray(raw) ? raw : [raw];
    const all = mods.includes('all');
    const matchers: Matcher[] = [];
    let unsupported: string | undefined;
    for (const v of values) {
      const mt = matcher(v, mods.filter((x) => x !== 'all'));
      if (typeof mt === 'string') { unsupported = mt; break; }
      matchers.push(mt);
    }
    if (unsupported !== undefined || matchers.length === 0) {
      ctx.notes.add(`${key}: ${unsupported ?? 'no values'}: approximate, prefilter only`);
      parts.push(wide(pos));
      continue;
    }
    parts.push(fieldCond(field, matchers, all ? 'all' : 'any', pos, ctx));
  }
  return and(parts);
}

const RE2_UNSUPPORTED = /\(\?[=!]|\(\?<[=!]|\(\?>|\\[1-9]|\(\?<[A-Za-z]|[*+?}]\+|\\[ZGhHRXK]/;

/** A matcher, or the reason the value/modifiers cannot be translated. */
function matcher(v: unknown, mods: readonly string[]): Matcher | string {
  if (v === null) return 'null value';
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return 'non-scalar value';
  const s = String(v);
  const known = new Set(['contains', 'startswith', 'endswith', 're', 'i', 'm', 's', 'cidr', 'cased']);
  const bad = mods.find((x) => !known.has(x));
  if (bad !== undefined) return `modifier ${bad}`;
  if (mods.includes('re')) {
    if (RE2_UNSUPPORTED.test(s)) return 'regular expression uses constructs RE2 lacks';
    return { kind: 're', re: s, flags: mods.filter((x) => x === 'i' || x === 'm' || x === 's').join('') };
  }
  if (mods.includes('cidr')) return /^[0-9a-fA-F:.]+\/\d+$/.test(s) ? { kind: 'cidr', net: s } : 'cidr value';
  if (typeof v === 'string' && /(?<!\\)%[^%]+%/.test(s) && mods.includes('expand')) return 'placeholder';
  let p = sigmaToLike(s);
  if (mods.includes('contains')) p = `%${p}%`;
  else if (mods.includes('startswith')) p = `${p}%`;
  else if (mods.includes('endswith')) p = `%${p}`;
  const plain = mods.includes('contains') && !/(?<!\\)[*?]/.test(s) && !s.includes('\\') ? s : undefined;
  return { kind: 'like', pattern: p, cased: mods.includes('cased'), literal: s, ...(plain !== undefined ? { contains: plain } : {}) };
}

/** Sigma wildcards (`*`, `?`, backslash escapes as in sigma-semantics.md) → a LIKE pattern. */
export function sigmaToLike(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '*' || n === '?' || n === '\\') { out += likeExact(n); i++; continue; }
      out += '\\\\';
      continue;
    }
    if (c === '*') out += '%';
    else if (c === '?') out += '_';
    else out += likeExact(c);
  }
  return out;
}

const likeExact = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function matchSql(v: string, m: Matcher, pos: Polarity): string {
  switch (m.kind) {
    case 'like': return `${v} ${m.cased === true ? 'LIKE' : 'ILIKE'} ${sqlString(m.pattern)}`;
    // The engine's regex flags are honoured exactly only under a `not`; elsewhere case is ignored (wider).
    case 're': return `match(${v}, ${sqlString(`${pos ? '(?i)' : m.flags.includes('i') ? '(?i)' : ''}${m.flags.includes('s') ? '(?s)' : ''}${m.flags.includes('m') ? '(?m)' : ''}${m.re}`)})`;
    case 'cidr': {
      // isIPAddressInRange throws on a non-address; '::' stands in so no evaluation order can reach that.
      const isIp = `(isIPv4String(${v}) OR isIPv6String(${v}))`;
      return `${isIp} AND isIPAddressInRange(if(${isIp}, ${v}, '::'), ${sqlString(m.net)})`;
    }
  }
}

/**
 * Field condition. Windows JSON body: the extracted value when found; when not found and the field's
 * name appears in the body, unknown (wide). XML body: routing fields only (others unknown). Any other
 * body (Linux, generic): the values' literal pieces in the row's text, as for a keyword (regexes and
 * CIDRs are not narrowed there); not at all for a variant that routes Windows events only.
 */
function fieldCond(field: string, ms: readonly Matcher[], q: 'any' | 'all', pos: Polarity, ctx: Ctx): string {
  const test = (v: string): string => valuesSql(v, ms, q, pos);
  const j = jsonField(field, ctx.aliases);
  const x = xmlField(field, ctx.aliases);
  if (j === undefined) ctx.notes.add(`field ${field} is not located in the body: prefilter only`);
  const name = sqlString(field);
  const rest = ctx.windowsOnly ? F : pos ? textCond(ms.map((m) => (m.kind === 'like' ? piecesCond(m.literal, ctx.aliases) : T)), q, ctx.aliases) : F;
  const jsonPart = j === undefined ? wide(pos) : pos ? `if(${j} != '', ${test(j)}, positionCaseInsensitive(${BODY}, ${name}) > 0)` : `(${j} != '' AND ${test(j)})`;
  const xmlPart = x === undefined ? wide(pos) : pos ? `if(${x} != '', ${test(x)}, 1)` : `(${x} != '' AND ${test(x)})`;
  if (jsonPart === rest && xmlPart === rest) return rest;
  return `multiIf(${IS_JSON}, ${jsonPart}, ${IS_XML}, ${xmlPart}, ${rest})`;
}

/** Plain `contains` values of one field, searched at once past this many (hash and command-line lists run to thousands). */
const MULTI_SEARCH_MIN = 4;
/** multiSearchAny* take fewer than 256 needles. */
const MULTI_SEARCH_MAX = 200;

function valuesSql(v: string, ms: readonly Matcher[], q: 'any' | 'all', pos: Polarity): string {
  if (q === 'all') return and(ms.map((m) => matchSql(v, m, pos)));
  const needles = ms.flatMap((m) => (m.kind === 'like' && m.cased !== true && m.contains !== undefined ? [m.contains] : []));
  if (needles.length < MULTI_SEARCH_MIN) return or(ms.map((m) => matchSql(v, m, pos)));
  const rest = ms.filter((m) => !(m.kind === 'like' && m.cased !== true && m.contains !== undefined));
  const searches: string[] = [];
  for (let i = 0; i < needles.length; i += MULTI_SEARCH_MAX) {
    searches.push(`multiSearchAnyCaseInsensitiveUTF8(${v}, [${needles.slice(i, i + MULTI_SEARCH_MAX).map(sqlString).join(', ')}])`);
  }
  return or([...searches, ...rest.map((m) => matchSql(v, m, pos))]);
}

function and(parts: readonly string[]): string {
  const p = parts.filter((x) => x !== T);
  if (p.includes(F)) return F;
  if (p.length === 0) return T;
  return p.length === 1 ? p[0]! : p.map((x) => `(${x})`).join(' AND ');
}

function or(parts: readonly string[]): string {
  const p = parts.filter((x) => x !== F);
  if (p.includes(T)) return T;
  if (p.length === 0) return F;
  return p.length === 1 ? p[0]! : p.map((x) => `(${x})`).join(' OR ');
}

function not(p: string): string {
  return p === T ? F : p === F ? T : `NOT (${p})`;
}

function globMatch(glob: string, name: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
  return re.test(name);
}
