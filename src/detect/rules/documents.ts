/**
 * What a YAML document is (rule, filter or correlation) and its metadata: RuleInfo for rules,
 * the target list and logsource for filters, and the validation of correlations (parsed and
 * checked, then refused: they are not evaluated yet).
 */
import { isMap, isScalar, isSeq } from 'yaml';
import { SIGMA_LEVELS, type RuleInfo, type RuleLogsource, type RuleProblem, type SigmaLevel } from '../types.ts';
import { deref, lineOf, RuleError, scalarText, type Source } from './compile.ts';
import type { RuleDocument } from './load.ts';

export type DocumentKind = 'rule' | 'filter' | 'correlation';

export function documentKind(d: RuleDocument): DocumentKind | RuleError {
  const r = d.root;
  if (r.has('correlation')) return 'correlation';
  if (r.has('detection')) return 'rule';
  if (r.has('filter')) return 'filter';
  return new RuleError("not a Sigma rule, filter or correlation: the document has no 'detection', 'filter' or 'correlation' section", d.line);
}

/** Plain JS value of a top-level key (aliases resolved). */
function get(d: RuleDocument, key: string): unknown {
  const node = deref(d.src, d.root.get(key, true));
  if (node === undefined || node === null) return undefined;
  if (isScalar(node)) return node.value;
  if (isMap(node) || isSeq(node)) return node.toJS(d.src.doc);
  return node;
}

export function keyLine(d: RuleDocument, key: string): number | undefined {
  const pair = d.root.items.find((p) => isScalar(p.key) && p.key.value === key);
  return pair ? lineOf(d.src, pair.key) : undefined;
}

const str = scalarText;
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined).map(str) : v === undefined || v === null ? [] : [str(v)]);

function readLogsource(d: RuleDocument): RuleLogsource | RuleError {
  const ls = get(d, 'logsource');
  if (ls === undefined) return new RuleError("the document has no 'logsource'", d.line);
  if (typeof ls !== 'object' || Array.isArray(ls)) return new RuleError("'logsource' must be a map of product, category and service", keyLine(d, 'logsource'));
  const o = ls as Record<string, unknown>;
  return { product: str(o['product']), category: str(o['category']), service: str(o['service']) };
}

/** RuleInfo of a rule document; warnings (bad level, no id) go to `problems`, fatal problems are thrown. */
export function readRuleInfo(d: RuleDocument, problems: RuleProblem[]): RuleInfo & { readonly name: string } {
  const meta = readMetadata(d, problems, 'rule');
  const logsource = readLogsource(d);
  if (logsource instanceof RuleError) throw logsource;
  return { ...meta, logsource };
}

/**
 * What a rule and a correlation document share: id, name, title, level, status, tags and the other
 * metadata fields. A missing title is fatal; a missing id or an unknown level is a warning.
 */
export function readMetadata(d: RuleDocument, problems: RuleProblem[], kind: 'rule' | 'correlation'): Omit<RuleInfo, 'logsource'> & { readonly name: string } {
  const id = str(get(d, 'id'));
  const title = str(get(d, 'title'));
  if (!title) throw new RuleError(`the ${kind} has no 'title'`, d.line);
  if (!id) {
    const consequence = kind === 'rule' ? 'its detections carry an empty rule id' : 'its detections carry an empty rule id and no other correlation can use it';
    problems.push({ file: d.file, line: d.line, reason: `the ${kind} has no 'id'; ${consequence}`, severity: 'warning' });
  }
  const levelRaw = str(get(d, 'level')).toLowerCase();
  let level: SigmaLevel = 'medium';
  if (levelRaw) {
    if ((SIGMA_LEVELS as readonly string[]).includes(levelRaw)) level = levelRaw as SigmaLevel;
    else {
      problems.push({
        file: d.file,
        line: keyLine(d, 'level'),
        ...(id ? { ruleId: id } : {}),
        reason: `unknown level '${levelRaw}' (known: ${SIGMA_LEVELS.join(', ')}); using medium`,
        severity: 'warning',
      });
    }
  }
  return {
    id,
    name: str(get(d, 'name')),
    title,
    level,
    status: str(get(d, 'status')),
    tags: strList(get(d, 'tags')),
    description: str(get(d, 'description')),
    references: strList(get(d, 'references')),
    falsepositives: strList(get(d, 'falsepositives')),
    author: str(get(d, 'author')),
    file: d.file,
  };
}

export interface FilterDefinition {
  readonly file: string;
  readonly line: number;
  readonly id: string;
  readonly title: string;
  readonly logsource: RuleLogsource;
  /** Rule ids or names; null = every rule of the logsource (`rules` empty, missing or `any`). */
  readonly rules: readonly string[] | null;
  readonly src: Source;
  /** The `filter` map: search identifiers, `condition`, and `rules` (skipped when compiling). */
  readonly detection: unknown;
}

export function readFilter(d: RuleDocument): FilterDefinition {
  const logsource = readLogsource(d);
  if (logsource instanceof RuleError) throw logsource;
  const f = deref(d.src, d.root.get('filter', true));
  if (!isMap(f)) throw new RuleError("'filter' must be a map of search identifiers, a condition and the rules it applies to", keyLine(d, 'filter'));
  const rulesNode = deref(d.src, (f).get('rules', true));
  let rules: string[] | null = null;
  if (isSeq(rulesNode)) rules = rulesNode.items.map((i) => str(isScalar(i) ? i.value : i));
  else if (isScalar(rulesNode) && rulesNode.value !== null && str(rulesNode.value).toLowerCase() !== 'any') rules = [str(rulesNode.value)];
  if (rules && rules.length === 0) rules = null;
  return { file: d.file, line: d.line, id: str(get(d, 'id')), title: str(get(d, 'title')), logsource, rules, src: d.src, detection: f };
}

/** Does a filter's logsource cover the rule's (every field the filter sets is equal)? */
export function logsourceCovers(filter: RuleLogsource, rule: RuleLogsource): boolean {
  const eq = (a: string, b: string) => a === '' || a.toLowerCase() === b.toLowerCase();
  return eq(filter.product, rule.product) && eq(filter.category, rule.category) && eq(filter.service, rule.service);
}

const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile', 'value_median'];
const CONDITION_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];

/** Checks a correlation document against the spec; returns the first problem, or null when it is valid. */
export function validateCorrelation(d: RuleDocument): RuleError | null {
  const c = get(d, 'correlation');
  const line = keyLine(d, 'correlation');
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return new RuleError("'correlation' must be a map", line);
  const o = c as Record<string, unknown>;
  const type = str(o['type']);
  if (!CORRELATION_TYPES.includes(type)) return new RuleError(`correlation type '${type}' is unknown (known: ${CORRELATION_TYPES.join(', ')})`, line);
  const temporal = type.startsWith('temporal');
  const rules = o['rules'];
  if (rules === undefined && !(temporal && typeof o['condition'] === 'string')) return new RuleError("correlation has no 'rules' (ids or names of the rules it correlates)", line);
  if (rules !== undefined && typeof rules !== 'string' && !(Array.isArray(rules) && rules.length > 0 && rules.every((r) => typeof r === 'string'))) {
    return new RuleError("correlation 'rules' must be a rule id/name or a non-empty list of them", line);
  }
  const timespan = o['timespan'] ?? o['timeframe'];
  if (typeof timespan !== 'string' || !/^\d+[smhdwMy]$/.test(timespan)) return new RuleError(`correlation 'timespan' must be a number and a unit (s, m, h, d, w, M, y), e.g. 5m; got '${str(timespan)}'`, line);
  const groupBy = o['group-by'];
  if (groupBy !== undefined && typeof groupBy !== 'string' && !(Array.isArray(groupBy) && groupBy.every((g) => typeof g === 'string'))) {
    return new RuleError("correlation 'group-by' must be a field name or a list of field names", line);
  }
  const cond = o['condition'];
  if (cond === undefined) {
    if (!temporal) return new RuleError(`correlation type '${type}' needs a 'condition' (one of ${CONDITION_OPS.join(', ')} with a number)`, line);
  } else if (typeof cond === 'string') {
    if (!temporal) return new RuleError(`a string condition is only allowed for temporal correlations, not '${type}'`, line);
  } else if (typeof cond === 'object' && cond !== null && !Array.isArray(cond)) {
    const co = cond as Record<string, unknown>;
    const ops = Object.keys(co).filter((k) => CONDITION_OPS.includes(k));
    const unknown = Object.keys(co).filter((k) => !CONDITION_OPS.includes(k) && k !== 'field' && k !== 'percentile');
    if (unknown.length) return new RuleError(`correlation condition has unknown key '${unknown[0]}' (known: ${CONDITION_OPS.join(', ')}, field, percentile)`, line);
    if (ops.length === 0 || ops.length > 2) return new RuleError(`correlation condition needs one comparison (or two for a range) of ${CONDITION_OPS.join(', ')}`, line);
    for (const op of ops) if (typeof co[op] !== 'number') return new RuleError(`correlation condition '${op}' must be a number`, line);
    if (type.startsWith('value_') && co['field'] === undefined) return new RuleError(`correlation type '${type}' needs 'condition.field'`, line);
  } else return new RuleError('correlation condition must be a map such as {gte: 10}', line);
  return null;
}
