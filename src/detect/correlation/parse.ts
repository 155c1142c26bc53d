/**
 * Correlation documents → CorrelationRule, and the resolution of their references.
 *
 * Parsing follows the Sigma correlation spec (v2.0.2, types from v2.1) and pySigma
 * (`sigma/correlations.py`):
 * - `type`: event_count, value_count, temporal, temporal_ordered, value_sum, value_avg,
 *   value_percentile, value_median.
 * - `rules`: a rule id/name or a list of them; temporal types may omit it when the condition is a
 *   string (the rules are then the names in the expression, in order of first appearance). When
 *   both are given they must name the same rules (as pySigma requires).
 * - `group-by`: a field or a list (optional: no group-by = one group).
 * - `timespan` (legacy `timeframe`): a positive number and one of s m h d w M (2,629,746 s) y
 *   (31,556,952 s).
 * - `condition`: a map with one comparison (gt gte lt lte eq neq) or a range (one of gt/gte and one
 *   of lt/lte, e.g. gt + lte), `field` (a field, or for value_count a list = distinct tuples) and
 *   `percentile` (value_percentile, 0..100, default 50). Temporal types without a condition use
 *   `gte: <number of distinct rules>` (temporal_ordered: the number of listed rules). A string
 *   condition (temporal types only) is a boolean expression over rule names/ids with `and`, `or`,
 *   `not` and parentheses (precedence not > and > or).
 * - `aliases`: alias → {rule id or name → field name}, usable in group-by (and condition.field).
 * - `generate` (in the correlation section as pySigma reads it, or at the top level): default false.
 * - Metadata (id, title, level, status, tags …) as for rules; the logsource is empty.
 */
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import type { RuleInfo, RuleProblem } from '../types.ts';
import { deref, lineOf, RuleError, scalarText } from '../rules/compile.ts';
import { keyLine, readMetadata, validateCorrelation } from '../rules/documents.ts';
import type { RuleDocument } from '../rules/load.ts';
import type { CorrelationCondition, CorrelationRule, CorrelationType, RuleExpression } from './types.ts';

const str = scalarText;

/** Plain JS value of a node (aliases resolved). */
function plain(d: RuleDocument, node: unknown): unknown {
  const n = deref(d.src, node);
  if (n === undefined || n === null) return undefined;
  if (isScalar(n)) return n.value;
  if (isMap(n) || isSeq(n)) return n.toJS(d.src.doc);
  return n;
}

function keyLineIn(d: RuleDocument, map: YAMLMap, key: string): number | undefined {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  return pair ? lineOf(d.src, pair.key) : undefined;
}


/** Seconds per timespan unit (pySigma's table: a month is 1/12 of a Gregorian year). */
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, M: 2_629_746, y: 31_556_952 };

export function parseTimespan(text: string, line: number | undefined): number {
  const m = /^(\d+)([smhdwMy])$/.exec(text);
  if (!m) throw new RuleError(`correlation 'timespan' must be a number and a unit (s, m, h, d, w, M, y), e.g. 5m; got '${text}'`, line);
  const ms = Number(m[1]) * UNIT_SECONDS[m[2]!]! * 1000;
  if (ms <= 0) throw new RuleError(`correlation 'timespan' must be greater than zero; got '${text}'`, line);
  if (!Number.isSafeInteger(ms)) throw new RuleError(`correlation 'timespan' '${text}' is too long`, line);
  return ms;
}

function readInfo(d: RuleDocument, problems: RuleProblem[]): RuleInfo {
  const { name: _name, ...meta } = readMetadata(d, problems, 'correlation');
  return { ...meta, logsource: { product: '', category: '', service: '' } };
}

const LOWER_OPS = ['gt', 'gte'] as const;
const UPPER_OPS = ['lt', 'lte'] as const;
const ALL_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

/** Parses a correlation document; throws a RuleError (with a line) when it is invalid. */
export function parseCorrelation(d: RuleDocument, problems: RuleProblem[]): CorrelationRule {
  const invalid = validateCorrelation(d);
  if (invalid) throw invalid;
  const info = readInfo(d, problems);
  const name = str(plain(d, d.root.get('name', true)));
  const cnode = deref(d.src, d.root.get('correlation', true));
  const corrLine = keyLine(d, 'correlation') ?? d.line;
  if (!isMap(cnode)) throw new RuleError("'correlation' must be a map", corrLine);
  const c = cnode;
  const get = (k: string) => plain(d, c.get(k, true));
  const lineOfKey = (k: string) => keyLineIn(d, c, k) ?? corrLine;
  const warn = (line: number | undefined, reason: string) => problems.push({ file: d.file, line, ...(info.id ? { ruleId: info.id } : {}), reason, severity: 'warning' });

  const type = str(get('type')) as CorrelationType;
  const temporal = type === 'temporal' || type === 'temporal_ordered';

  // rules
  const rulesRaw = get('rules');
  let rules: string[] = rulesRaw === undefined ? [] : typeof rulesRaw === 'string' ? [rulesRaw] : (rulesRaw as unknown[]).map(str);
  if (rules.some((r) => r === '')) throw new RuleError("correlation 'rules' has an empty entry", lineOfKey('rules'));

  // generate: pySigma reads it in the correlation section; the spec lists it with the metadata.
  let generateRaw = get('generate');
  let generateLine = lineOfKey('generate');
  if (generateRaw === undefined) {
    generateRaw = plain(d, d.root.get('generate', true));
    generateLine = keyLine(d, 'generate') ?? d.line;
  }
  if (generateRaw !== undefined && typeof generateRaw !== 'boolean') throw new RuleError(`correlation 'generate' must be true or false; got '${str(generateRaw)}'`, generateLine);
  const generate = generateRaw === true;

  // timespan
  const hasTimespan = get('timespan') !== undefined;
  const timespanMs = parseTimespan(str(get(hasTimespan ? 'timespan' : 'timeframe')), lineOfKey(hasTimespan ? 'timespan' : 'timeframe'));

  // group-by
  const groupRaw = get('group-by');
  const groupBy = groupRaw === undefined ? [] : typeof groupRaw === 'string' ? [groupRaw] : (groupRaw as unknown[]).map(str);
  if (groupBy.some((g) => g === '')) throw new RuleError("correlation 'group-by' has an empty field name", lineOfKey('group-by'));
  if (new Set(groupBy).size !== groupBy.length) throw new RuleError("correlation 'group-by' names a field twice", lineOfKey('group-by'));

  // aliases
  const aliasesRaw = get('aliases');
  const aliases: Record<string, Record<string, string>> = {};
  if (aliasesRaw !== undefined) {
    const line = lineOfKey('aliases');
    if (typeof aliasesRaw !== 'object' || aliasesRaw === null || Array.isArray(aliasesRaw)) throw new RuleError("correlation 'aliases' must be a map: alias → {rule name: field}", line);
    for (const [alias, mapping] of Object.entries(aliasesRaw as Record<string, unknown>)) {
      if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) throw new RuleError(`correlation alias '${alias}' must be a map of rule name → field name`, line);
      const m: Record<string, string> = {};
      for (const [ref, f] of Object.entries(mapping as Record<string, unknown>)) {
        if (typeof f !== 'string' || f === '') throw new RuleError(`correlation alias '${alias}': the field for rule '${ref}' must be a field name`, line);
        m[ref] = f;
      }
      aliases[alias] = m;
    }
  }

  // condition
  const condRaw = get('condition');
  const condLine = lineOfKey('condition');
  let condition: CorrelationCondition = {};
  let expression: RuleExpression | undefined;
  let valueFields: string[] = [];
  let percentile: number | undefined;
  if (typeof condRaw === 'string') {
    // validateCorrelation allows a string only for the temporal types.
    expression = parseRuleExpression(condRaw, condLine);
    // Without `rules`, the rules are those of the expression; with both, resolveCorrelations checks they agree (after resolving names).
    if (rulesRaw === undefined) rules = expressionRules(expression);
  } else if (condRaw === undefined) {
    // Temporal default (pySigma): every rule. Non-temporal types without a condition were refused by validateCorrelation.
    condition = { gte: type === 'temporal_ordered' ? rules.length : new Set(rules).size };
  } else {
    const o = condRaw as Record<string, unknown>;
    const ops = ALL_OPS.filter((op) => o[op] !== undefined);
    for (const op of ops) {
      const v = o[op];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RuleError(`correlation condition '${op}' must be a finite number`, condLine);
      condition[op] = v;
    }
    if (ops.length === 2) {
      const lower = ops.filter((op) => (LOWER_OPS as readonly string[]).includes(op));
      const upper = ops.filter((op) => (UPPER_OPS as readonly string[]).includes(op));
      if (lower.length !== 1 || upper.length !== 1) throw new RuleError(`a correlation condition range needs one of gt/gte and one of lt/lte; got ${ops.join(' + ')}`, condLine);
      const lo = condition.gt ?? condition.gte!;
      const hi = condition.lt ?? condition.lte!;
      if (lo > hi || (lo === hi && (condition.gt !== undefined || condition.lt !== undefined))) throw new RuleError(`the correlation condition range ${ops.map((op) => `${op} ${condition[op]}`).join(' and ')} is empty`, condLine);
    }
    const fieldRaw = o['field'];
    if (fieldRaw !== undefined) {
      const fields = typeof fieldRaw === 'string' ? [fieldRaw] : Array.isArray(fieldRaw) && fieldRaw.every((f) => typeof f === 'string') ? fieldRaw : null;
      if (fields === null || fields.length === 0 || fields.some((f) => f === '')) throw new RuleError("correlation condition 'field' must be a field name or a list of field names", condLine);
      if (type.startsWith('value_')) {
        if (fields.length > 1 && type !== 'value_count') throw new RuleError(`correlation type '${type}' aggregates one field; got ${fields.length}`, condLine);
        valueFields = [...new Set(fields)];
      } else warn(condLine, `correlation condition 'field' is ignored for type '${type}'`);
    }
    const pRaw = o['percentile'];
    if (type === 'value_percentile') {
      if (pRaw !== undefined && (typeof pRaw !== 'number' || !(pRaw >= 0 && pRaw <= 100))) throw new RuleError(`correlation condition 'percentile' must be a number from 0 to 100; got '${str(pRaw)}'`, condLine);
      percentile = typeof pRaw === 'number' ? pRaw : 50;
    } else if (pRaw !== undefined) warn(condLine, `correlation condition 'percentile' is ignored for type '${type}'`);
    if (temporal) {
      const distinct = type === 'temporal_ordered' ? rules.length : new Set(rules).size;
      const lo = condition.gte ?? (condition.gt !== undefined ? condition.gt + 1 : condition.eq);
      if (lo !== undefined && lo > distinct) warn(condLine, `the correlation condition needs ${lo} rules but the correlation names only ${distinct}; it never fires`);
    }
  }
  for (const alias of Object.keys(aliases)) {
    if (!groupBy.includes(alias) && !valueFields.includes(alias)) warn(lineOfKey('aliases'), `correlation alias '${alias}' is used neither in 'group-by' nor in condition.field`);
  }
  if (type === 'value_median') percentile = 50;
  if (rules.length === 0) throw new RuleError('the correlation names no rules', lineOfKey('rules'));

  return {
    info,
    name,
    type,
    rules,
    groupBy,
    aliases,
    timespanMs,
    condition,
    ...(expression ? { expression } : {}),
    valueFields,
    ...(percentile !== undefined ? { percentile } : {}),
    generate,
    line: d.line,
  };
}

/** The rules an expression names, in order of first appearance. */
export function expressionRules(e: RuleExpression): string[] {
  const out: string[] = [];
  const walk = (x: RuleExpression): void => {
    if (x.op === 'ref') {
      if (!out.includes(x.rule)) out.push(x.rule);
    } else if (x.op === 'not') walk(x.arg);
    else x.args.forEach(walk);
  };
  walk(e);
  return out;
}

/** Evaluates an expression; `has(rule)` says whether the rule was seen. */
export function evalExpression(e: RuleExpression, has: (rule: string) => boolean): boolean {
  switch (e.op) {
    case 'ref':
      return has(e.rule);
    case 'not':
      return !evalExpression(e.arg, has);
    case 'and':
      return e.args.every((a) => evalExpression(a, has));
    default:
      return e.args.some((a) => evalExpression(a, has));
  }
}

/**
 * A temporal string condition: rule names/ids joined by `and`, `or`, `not` and parentheses
 * (precedence not > and > or, like Sigma detection conditions). Anything else — `1 of`, pipes,
 * wildcards, upper-case operators — is refused.
 */
export function parseRuleExpression(text: string, line?: number): RuleExpression {
  const tokens: string[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/y;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) tokens.push(m[1]!);
  if (tokens.length === 0) throw new RuleError('the correlation condition is empty', line);
  let i = 0;
  const fail = (msg: string): never => {
    throw new RuleError(`correlation condition '${text}': ${msg}`, line);
  };
  const isOp = (t: string | undefined, op: string) => t === op;
  const checkIdent = (t: string) => {
    if (/^(and|or|not)$/i.test(t)) fail(`operators are lower-case ('${t.toLowerCase()}', not '${t}')`);
    if (t === 'of' || t === 'near' || t === 'them') fail(`'${t}' is not allowed: a correlation condition combines rule names with and, or, not`);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/.test(t)) fail(`'${t}' is not a rule name or id`);
  };
  const parseOr = (): RuleExpression => {
    const args = [parseAnd()];
    while (isOp(tokens[i], 'or')) {
      i++;
      args.push(parseAnd());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args: args.flatMap((a) => (a.op === 'or' ? a.args : [a])) };
  };
  const parseAnd = (): RuleExpression => {
    const args = [parseNot()];
    while (isOp(tokens[i], 'and')) {
      i++;
      args.push(parseNot());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args: args.flatMap((a) => (a.op === 'and' ? a.args : [a])) };
  };
  const parseNot = (): RuleExpression => {
    if (isOp(tokens[i], 'not')) {
      i++;
      return { op: 'not', arg: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): RuleExpression => {
    const t = tokens[i];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      i++;
      const e = parseOr();
      if (tokens[i] !== ')') fail("missing ')'");
      i++;
      return e;
    }
    if (t === ')') fail("unexpected ')'");
    if (t === 'and' || t === 'or') fail(`unexpected '${t}'`);
    checkIdent(t);
    i++;
    return { op: 'ref', rule: t };
  };
  const e = parseOr();
  if (i < tokens.length) {
    const t = tokens[i]!;
    if (t === ')') fail("unexpected ')'");
    checkIdent(t);
    fail(`unexpected '${t}' (rule names must be joined by and / or)`);
  }
  return e;
}

function mapExpression(e: RuleExpression, f: (rule: string) => string): RuleExpression {
  switch (e.op) {
    case 'ref':
      return { op: 'ref', rule: f(e.rule) };
    case 'not':
      return { op: 'not', arg: mapExpression(e.arg, f) };
    default:
      return { op: e.op, args: e.args.map((a) => mapExpression(a, f)) };
  }
}

/**
 * Resolves each correlation's references (rules, aliases, expression) by id, then by name, to
 * rule ids. A correlation with an unknown, ambiguous or id-less reference, a duplicate id, a
 * reference to a refused correlation, or in a cycle gets one `error` problem and is dropped.
 * Chained correlations (over correlations) are kept; the result is in dependency order (inner
 * before outer), otherwise in the given order.
 */
export function resolveCorrelations(rules: readonly CorrelationRule[], base: readonly { id: string; name: string }[], problems: RuleProblem[]): CorrelationRule[] {
  const error = (c: CorrelationRule, reason: string) => problems.push({ file: c.info.file, line: c.line, ...(c.info.id ? { ruleId: c.info.id } : {}), reason, severity: 'error' });
  const warn = (c: CorrelationRule, reason: string) => problems.push({ file: c.info.file, line: c.line, ...(c.info.id ? { ruleId: c.info.id } : {}), reason, severity: 'warning' });
  const ids = new Set<string>();
  const corrIds = new Map<string, number>();
  const names = new Map<string, { id: string; what: string }[]>();
  const addName = (name: string, id: string, what: string) => {
    if (!name) return;
    const l = names.get(name) ?? [];
    if (!l.some((x) => x.id === id)) l.push({ id, what });
    names.set(name, l);
  };
  for (const b of base) {
    if (b.id) ids.add(b.id);
    addName(b.name, b.id, 'rule');
  }
  const alive: (CorrelationRule | null)[] = rules.map(() => null);
  const dead = new Set<number>();
  rules.forEach((c, i) => {
    const id = c.info.id;
    if (id && (ids.has(id) || corrIds.has(id))) {
      error(c, `correlation id '${id}' is already used by ${corrIds.has(id) ? 'another correlation' : 'a rule'}; the correlation is not loaded`);
      dead.add(i);
      return;
    }
    if (id) {
      ids.add(id);
      corrIds.set(id, i);
    }
    addName(c.name, id, 'correlation');
  });

  rules.forEach((c, i) => {
    if (dead.has(i)) return;
    const st: { problem: string | null } = { problem: null };
    const resolve = (ref: string): string => {
      if (st.problem) return ref;
      if (ids.has(ref)) return ref;
      const hits = names.get(ref);
      if (!hits || hits.length === 0) st.problem = `correlation references '${ref}', which is neither the id nor the name of a loaded rule or correlation`;
      else if (hits.length > 1) st.problem = `correlation reference '${ref}' is ambiguous: several rules or correlations are named so`;
      else if (!hits[0]!.id) st.problem = `correlation references the ${hits[0]!.what} named '${ref}', which has no 'id'`;
      else return hits[0]!.id;
      return ref;
    };
    const resolvedRules = c.rules.map(resolve);
    const expression = c.expression ? mapExpression(c.expression, resolve) : undefined;
    const aliases: Record<string, Record<string, string>> = {};
    for (const [alias, mapping] of Object.entries(c.aliases)) {
      const m: Record<string, string> = {};
      for (const [ref, field] of Object.entries(mapping)) {
        const rid = resolve(ref);
        if (!st.problem && !resolvedRules.includes(rid)) warn(c, `correlation alias '${alias}' maps rule '${ref}', which the correlation does not use`);
        m[rid] = field;
      }
      aliases[alias] = m;
    }
    if (!st.problem && expression && c.expression) {
      // pySigma: the rules listed and the rules of the condition must be the same.
      const named = expressionRules(expression);
      const missing = expressionRules(c.expression).filter((ref) => !resolvedRules.includes(resolve(ref)));
      const unused = c.rules.filter((_, k) => !named.includes(resolvedRules[k]!));
      if (missing.length) st.problem = `the correlation condition names rules that are not in 'rules': ${missing.join(', ')}`;
      else if (unused.length) st.problem = `rules listed in 'rules' but not used in the correlation condition: ${unused.join(', ')}`;
    }
    if (!st.problem && c.info.id && resolvedRules.includes(c.info.id)) st.problem = 'correlation references itself';
    if (st.problem) {
      error(c, st.problem);
      dead.add(i);
      return;
    }
    alive[i] = { ...c, rules: resolvedRules, aliases, ...(expression ? { expression } : {}) };
  });

  const deps = (i: number): number[] => {
    const c = alive[i];
    if (!c) return [];
    return [...new Set(c.rules)].map((r) => corrIds.get(r)).filter((j): j is number => j !== undefined);
  };
  // Drop correlations over refused ones, then cycles, until nothing changes.
  for (;;) {
    let changed = false;
    alive.forEach((c, i) => {
      if (!c) return;
      const bad = deps(i).find((j) => !alive[j]);
      if (bad !== undefined) {
        error(c, `correlation uses correlation '${rules[bad]!.info.id}', which was refused`);
        alive[i] = null;
        changed = true;
      }
    });
    if (changed) continue;
    // Cycle detection (DFS colouring): every correlation on a cycle is refused.
    const colour = new Map<number, 1 | 2>();
    const stack: number[] = [];
    const onCycle = new Set<number>();
    const visit = (i: number): void => {
      colour.set(i, 1);
      stack.push(i);
      for (const j of deps(i)) {
        if (!alive[j]) continue;
        const cj = colour.get(j);
        if (cj === 1) for (const k of stack.slice(stack.indexOf(j))) onCycle.add(k);
        else if (cj === undefined) visit(j);
      }
      stack.pop();
      colour.set(i, 2);
    };
    alive.forEach((c, i) => {
      if (c && !colour.has(i)) visit(i);
    });
    if (onCycle.size === 0) break;
    for (const i of onCycle) {
      const c = alive[i]!;
      const path = deps(i)
        .filter((j) => onCycle.has(j))
        .map((j) => rules[j]!.info.id);
      error(c, `correlation is part of a reference cycle (it uses ${path.map((p) => `'${p}'`).join(', ')}, which use it in turn)`);
      alive[i] = null;
    }
  }

  // Dependency order: inner correlations first, otherwise as given.
  const out: CorrelationRule[] = [];
  const placed = new Set<number>();
  const place = (i: number): void => {
    const c = alive[i];
    if (placed.has(i) || !c) return;
    placed.add(i);
    for (const j of deps(i)) place(j);
    out.push(c);
  };
  alive.forEach((_, i) => place(i));
  return out;
}
