/**
 * `convert --target clickhouse`: Sigma rule files → ClickHouse SQL over SigNoz's `logs_v2`, with the
 * same logsource mapping data the engine routes by. The SQL is also hunt's prefilter (`hunt --sql`):
 * ClickHouse sends back only rows some rule could match, and the real engine decides.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { LogsourceMapping } from '../map/types.ts';
import { ruleToSql } from './rule-sql.ts';
import { withClause } from './signoz-fields.ts';

const NONE: ReadonlyMap<string, string> = new Map();

export interface ConvertedRule {
  readonly file: string;
  readonly id: string;
  readonly title: string;
  /** `exact` (for Windows map bodies stored as JSON), `approximate` (prefilter only; `notes` say why), `untranslatable`. */
  readonly translation: 'exact' | 'approximate' | 'untranslatable';
  /** WHERE condition over the logs table ('1' when nothing narrows it). */
  readonly where: string;
  /** The logsource part of `where` alone. */
  readonly routing: string;
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
      out.push({ file, id: '', title: '', translation: 'untranslatable', where: '1', routing: '1', aliases: NONE, notes: [`cannot read: ${(e as Error).message}`], unreadable: true });
      continue;
    }
    for (const doc of parseAllDocuments(text)) {
      if ('errors' in doc && doc.errors.length > 0) {
        out.push({ file, id: '', title: '', translation: 'untranslatable', where: '1', routing: '1', aliases: NONE, notes: [`YAML: ${doc.errors[0]!.message}`], unreadable: true });
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
    return { file, id, title, translation: 'untranslatable', where: '1', routing: '1', aliases: NONE, notes: ['aggregation in condition'] };
  }
  const ls = (r['logsource'] ?? {}) as { product?: string; category?: string; service?: string };
  const { where, routing, aliases, approximations } = ruleToSql(det, ls, mapping);
  const translation = where === '1' && approximations.length > 0 ? 'untranslatable' : approximations.length > 0 ? 'approximate' : 'exact';
  return { file, id, title, translation, where, routing, aliases, notes: approximations };
}

/** A full query over the logs table for one rule. */
export function ruleQuery(c: ConvertedRule, table = 'signoz_logs.logs_v2'): string {
  return `${withClause(c.aliases)}SELECT timestamp, id, body FROM ${table}\nWHERE ${c.where}\nORDER BY ts_bucket_start, timestamp, id`;
}

/** A hunt prefilter: the WITH clause it needs and the condition. */
export interface Prefilter {
  readonly with: string;
  readonly where: string;
}

/**
 * OR of every rule's condition; '' when some rule cannot be narrowed (then every row must be read).
 * Past `maxChars` of SQL (many rules), the OR of the rules' logsource conditions only: coarser, still
 * never narrower than the rules, and a few distinct Channel/EventID tests however many rules there are.
 */
export function combinedPrefilter(rules: readonly ConvertedRule[], maxChars = 200_000): Prefilter {
  if (rules.length === 0 || rules.some((r) => r.where === '1')) return { with: '', where: '' };
  const aliases = new Map<string, string>();
  for (const r of rules) for (const [n, e] of r.aliases) aliases.set(n, e);
  const full = orAll(rules.map((r) => r.where));
  if (full.length <= maxChars) return { with: withClause(aliases), where: full };
  // a rule that its logsource does not narrow keeps its full condition
  return { with: withClause(aliases), where: orAll(rules.map((r) => (r.routing === '1' ? r.where : r.routing))) };
}

function orAll(parts: readonly string[]): string {
  const uniq = [...new Set(parts)].filter((w) => w !== '0');
  return uniq.length === 0 ? '0' : uniq.map((w) => `(${w})`).join(' OR ');
}
