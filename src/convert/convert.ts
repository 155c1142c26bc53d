/**
 * `convert --target clickhouse`: Sigma rule files → ClickHouse SQL over SigNoz's `logs_v2`, with the
 * same logsource mapping data the engine routes by. The SQL is also hunt's prefilter (`hunt --sql`):
 * ClickHouse sends back only rows some rule could match, and the real engine decides.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { LogsourceMapping } from '../map/types.ts';
import { ruleToSql, type RulePart } from './rule-sql.ts';
import { withClause, type BodyLayout } from './signoz-fields.ts';

const NONE: ReadonlyMap<string, string> = new Map();

const AGGREGATION = 'aggregation in condition';

export type Translation = 'exact' | 'prefiltered' | 'unfiltered';
export const TRANSLATIONS: readonly Translation[] = ['exact', 'prefiltered', 'unfiltered'];

export interface ConvertedRule {
  readonly file: string;
  readonly id: string;
  readonly title: string;
  /**
   * `exact`: the query returns the rows the rule matches (Windows map bodies; the engine still decides),
   * `prefiltered`: a superset of them (`notes` say why), `unfiltered`: nothing narrows it (every row).
   */
  readonly translation: Translation;
  /** WHERE condition over the logs table ('1' when nothing narrows it). */
  readonly where: string;
  /** The logsource part of `where` alone. */
  readonly routing: string;
  /** `where` as (routing AND detection) per logsource variant (empty when `where` is '1'). */
  readonly parts: readonly RulePart[];
  /** Field extractions `where` and `routing` name: alias → expression. */
  readonly aliases: ReadonlyMap<string, string>;
  readonly notes: readonly string[];
  /** The file could not be read or is not valid YAML (an input error, not a limit of the translation). */
  readonly unreadable?: true;
}

/** Rules → queries. Correlation documents met on the way go to `correlations` when given (they are no query of their own). */
export function convertRuleFiles(files: readonly string[], mapping: LogsourceMapping, placeholders: Readonly<Record<string, readonly string[]>> = {}, correlations?: CorrelationSummary[]): ConvertedRule[] {
  void placeholders; // %placeholders% are widened (reported) rather than expanded
  const out: ConvertedRule[] = [];
  for (const file of new Set(files)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      out.push({ file, id: '', title: '', translation: 'unfiltered', where: '1', routing: '1', parts: [], aliases: NONE, notes: [`cannot read: ${(e as Error).message}`], unreadable: true });
      continue;
    }
    for (const doc of parseAllDocuments(text)) {
      if ('errors' in doc && doc.errors.length > 0) {
        out.push({ file, id: '', title: '', translation: 'unfiltered', where: '1', routing: '1', parts: [], aliases: NONE, notes: [`YAML: ${doc.errors[0]!.message}`], unreadable: true });
        continue;
      }
      const r = doc.toJS() as Record<string, unknown> | null;
      if (r === null || typeof r !== 'object') continue;
      if (correlations !== undefined && typeof r['correlation'] === 'object' && r['correlation'] !== null) correlations.push(correlationSummary(file, r, r['correlation'] as Record<string, unknown>));
      if (typeof r['detection'] !== 'object' || r['detection'] === null) continue;
      out.push(convertRule(file, r, mapping));
    }
  }
  return out;
}

/** A correlation document as `convert` reports it: not a query of its own (it runs over its rules' matches). */
export interface CorrelationSummary {
  readonly file: string;
  readonly id: string;
  readonly title: string;
  readonly type: string;
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  readonly timespan: string;
}

function correlationSummary(file: string, r: Record<string, unknown>, c: Record<string, unknown>): CorrelationSummary {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
  return {
    file,
    id: typeof r['id'] === 'string' ? r['id'] : '',
    title: typeof r['title'] === 'string' ? r['title'] : '',
    type: typeof c['type'] === 'string' ? c['type'] : '',
    rules: list(c['rules']),
    groupBy: list(c['group-by']),
    timespan: typeof c['timespan'] === 'string' ? c['timespan'] : typeof c['timeframe'] === 'string' ? c['timeframe'] : '',
  };
}

export function convertRule(file: string, r: Record<string, unknown>, mapping: LogsourceMapping): ConvertedRule {
  const id = typeof r['id'] === 'string' ? r['id'] : '';
  const title = typeof r['title'] === 'string' ? r['title'] : '';
  const det = r['detection'] as Record<string, unknown>;
  if (typeof det['condition'] === 'string' && det['condition'].includes('|')) {
    return { file, id, title, translation: 'unfiltered', where: '1', routing: '1', parts: [], aliases: NONE, notes: [AGGREGATION] };
  }
  const ls = (r['logsource'] ?? {}) as { product?: string; category?: string; service?: string };
  const { where, routing, aliases, approximations, parts } = ruleToSql(det, ls, mapping);
  const translation: Translation = where === '1' ? 'unfiltered' : approximations.length > 0 ? 'prefiltered' : 'exact';
  return { file, id, title, translation, where, routing, parts: where === '1' ? [] : parts, aliases, notes: approximations };
}

/** A full query over the logs table for one rule. */
export function ruleQuery(c: ConvertedRule, table = 'signoz_logs.logs_v2', layout?: BodyLayout): string {
  return `${withClause(c.aliases, layout)}SELECT timestamp, id, body FROM ${table}\nWHERE ${c.where}\nORDER BY ts_bucket_start, timestamp, id`;
}

/** The aliases `sql` names, directly or through other aliases (ClickHouse plans every alias of a WITH, used or not). */
function usedAliases(aliases: ReadonlyMap<string, string>, sql: string): Map<string, string> {
  const used = new Set<string>();
  const visit = (text: string): void => {
    for (const name of text.match(/\b[a-z]_[A-Za-z0-9_]+\b|\bsigma_[a-z]+\b/g) ?? []) {
      const e = aliases.get(name);
      if (e === undefined || used.has(name)) continue;
      used.add(name);
      visit(e);
    }
  };
  visit(sql);
  // in definition order: an alias may read one defined before it
  return new Map([...aliases].filter(([n]) => used.has(n)));
}

/** How many rules of each translation. */
export function translationCounts(rules: readonly ConvertedRule[]): Record<Translation, number> {
  const n: Record<Translation, number> = { exact: 0, prefiltered: 0, unfiltered: 0 };
  for (const r of rules) if (r.unreadable !== true) n[r.translation]++;
  return n;
}

/** `3,134 exact, 582 prefiltered, 64 unfiltered`: the one wording convert and hunt print. */
export const countsText = (n: Record<Translation, number>): string => TRANSLATIONS.map((t) => `${n[t]} ${t}`).join(', ');

/**
 * The rows a hunt reads, as one condition: the OR of every narrowed rule's condition (exact and
 * prefiltered alike: each only widens its own part), and the rules that nothing narrows. `with`
 * holds the field extractions (each computed once per row however many rules read it).
 */
export interface HuntFilter {
  readonly with: string;
  /** Some narrowed rule may match the row ('0' when no rule is narrowed). */
  readonly hit: string;
  /** Rules no condition narrows: with any (but old-style aggregations, which the engine refuses), `hit` is '1'. */
  readonly unfiltered: readonly ConvertedRule[];
  readonly counts: Record<Translation, number>;
}

export function huntFilter(rules: readonly ConvertedRule[], layout?: BodyLayout): HuntFilter {
  const narrowed = rules.filter((r) => r.where !== '1');
  const aliases = new Map<string, string>();
  for (const r of narrowed) for (const [n, e] of r.aliases) aliases.set(n, e);
  // Grouped by logsource condition: ClickHouse tests each routing once per row and skips the
  // detections of every rule behind it when it fails (short-circuit AND).
  const byRoute = new Map<string, Set<string>>();
  for (const r of narrowed) for (const p of r.parts) byRoute.set(p.routing, (byRoute.get(p.routing) ?? new Set()).add(p.det));
  const groups: string[] = [];
  for (const [route, dets] of byRoute) {
    // ClickHouse's analysis time grows faster than the SQL (measured on chdb 26.7: 200 rules' conditions
    // take 3-12 s to plan, the whole SigmaHQ ruleset minutes): a logsource condition stands for its rules.
    const any = dets.has('1') || route !== '1' ? '1' : [...dets].map((d) => `(${d})`).join(' OR ');
    groups.push(route === '1' ? any : any === '1' ? route : `${route} AND (${any})`);
  }
  const unfiltered = rules.filter((r) => r.where === '1' && r.unreadable !== true);
  // A rule nothing narrows may match any row, so every row is read; an old-style aggregation is the
  // exception: the engine refuses to load it (rewrite as a correlation), so it matches nothing.
  const loose = unfiltered.some((r) => !r.notes.includes(AGGREGATION));
  const hit = loose ? '1' : groups.length === 0 ? '0' : groups.map((g) => `(${g})`).join('\n OR ');
  return { with: loose ? '' : withClause(usedAliases(aliases, hit), layout), hit, unfiltered, counts: translationCounts(rules) };
}
