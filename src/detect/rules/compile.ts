/**
 * Compiles a `detection` section (YAML nodes, so every problem has a line) into one test:
 * search identifiers → item tests (values.ts), the condition (condition.ts) over them.
 *
 * Detection forms (spec, pySigma `SigmaDetection`): a map is an AND of `field|modifiers: values`
 * items; a list of maps is an OR of them; a list of plain values (or one plain value) is a
 * keyword search; a list mixing both is an OR of the two kinds.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { ConditionError, parseCondition, resolveCondition, type ResolvedCondition } from './condition.ts';
import { applyModifiers, isModifier, KNOWN_MODIFIERS, ModifierError, type Modifier, type ModifierContext, type RawValue, type SigmaValue } from './modifiers.ts';
import { andAll, anyOf, negate, type CostedTest, type KeywordProbe } from './combine.ts';
import { fieldItemTest, keywordTest } from './values.ts';

/** A problem that rejects the rule, with the line it was found on. */
export class RuleError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line: number | undefined) {
    super(message);
    this.line = line;
  }
}

/** Where a document's nodes come from, to turn offsets into lines and resolve aliases. */
export interface Source {
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly text: string;
}

export function lineOf(src: Source, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? src.lines.linePos(range[0]).line : undefined;
}

/** Text of a scalar key or value ('' for null, JSON for anything else). */
export function scalarText(node: unknown): string {
  const v: unknown = isScalar(node) ? node.value : node;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return unsliced(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v) ?? '';
}

/**
 * A copy of `s` that does not point into the text it was cut from. The YAML parser's values are V8
 * "sliced strings" of the rule file: one kept title or needle kept the whole file alive, ~9 MB of
 * rule-file text in every worker holding the SigmaHQ ruleset (heap snapshot, 2026-12-06).
 */
export function unsliced(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string); // V8 copies shorter substrings anyway
}

export function deref(src: Source, node: unknown): unknown {
  return isAlias(node) ? node.resolve(src.doc) : node;
}

/** The rule's field names, numbered in order of first use (the detector maps them to event slots). */
export class RuleFields {
  readonly names: string[] = [];
  readonly #index = new Map<string, number>();
  index = (name: string): number => {
    let i = this.#index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.#index.set(name, i);
    }
    return i;
  };
}

export interface DetectionContext {
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  readonly fields: RuleFields;
}

export interface CompiledDetection {
  readonly test: CostedTest;
  /** Lower-cased keyword predicates, to report which fields a keyword hit. */
  readonly probes: readonly KeywordProbe[];
}

/** Compiles a detection map (a rule's `detection`, or a filter's `filter`, minus `rules`). */
export function compileDetection(src: Source, det: unknown, ctx: DetectionContext, skipKeys: readonly string[] = []): CompiledDetection {
  det = deref(src, det);
  if (!isMap(det)) throw new RuleError('detection must be a map of search identifiers and a condition', lineOf(src, det));
  const searches = new Map<string, Node | null>();
  let conditionNode: unknown;
  let conditionPair: Pair | undefined;
  for (const pair of det.items) {
    const key = scalarText(pair.key);
    if (key === 'condition') {
      conditionNode = deref(src, pair.value);
      conditionPair = pair;
    } else if (key === 'timeframe' || skipKeys.includes(key)) continue;
    else searches.set(key, pair.value as Node | null);
  }
  if (conditionNode === undefined) throw new RuleError('detection has no condition', lineOf(src, det));
  const condLine = lineOf(src, conditionNode) ?? lineOf(src, conditionPair?.key);

  const probes: KeywordProbe[] = [];
  const compiled = new Map<string, CostedTest>();
  for (const [name, node] of searches) {
    const c = compileSearch(src, name, node, ctx);
    compiled.set(name, c.test);
    probes.push(...c.probes);
  }

  const conditions: string[] = [];
  if (isScalar(conditionNode) && typeof conditionNode.value === 'string') conditions.push(conditionNode.value);
  else if (isSeq(conditionNode) && conditionNode.items.every((c) => isScalar(c) && typeof c.value === 'string')) {
    for (const c of conditionNode.items) conditions.push((c as Scalar<string>).value);
  } else throw new RuleError('condition must be a string or a list of strings', condLine);
  if (conditions.length === 0) throw new RuleError('condition list is empty', condLine);

  const ids = [...searches.keys()];
  const resolved: ResolvedCondition[] = [];
  for (const text of conditions) {
    let r: ResolvedCondition | null;
    try {
      r = resolveCondition(parseCondition(text), ids);
    } catch (e) {
      if (e instanceof ConditionError) throw new RuleError(e.message, condLine);
      throw e;
    }
    if (r === null) throw new RuleError(`condition '${text}' selects no search identifier (every 'x of' pattern matched nothing)`, condLine);
    resolved.push(r);
  }
  const build = (c: ResolvedCondition): CostedTest => {
    switch (c.k) {
      case 'id':
        return compiled.get(c.name)!;
      case 'not':
        return negate(build(c.arg));
      case 'and':
        return andAll(c.args.map(build));
      case 'or':
        return anyOf(c.args.map(build));
    }
  };
  const tests = resolved.map(build);
  return { test: tests.length === 1 ? tests[0]! : anyOf(tests), probes };
}

function compileSearch(src: Source, name: string, node: unknown, ctx: DetectionContext): { test: CostedTest; probes: KeywordProbe[] } {
  node = deref(src, node);
  const probes: KeywordProbe[] = [];
  const line = lineOf(src, node);
  if (isMap(node)) return { test: compileMap(src, name, node, ctx, probes), probes };
  if (isSeq(node)) {
    if (node.items.length === 0) throw new RuleError(`search identifier '${name}' is an empty list`, line);
    const items = node.items.map((i) => deref(src, i));
    const scalars = items.filter((i) => isScalar(i));
    const alternatives: CostedTest[] = [];
    if (scalars.length) {
      const k = keywordTest(scalars.map((sc) => value(src, sc, [], KEYWORDS)), false, false);
      alternatives.push(k.test);
      probes.push(...k.probes);
    }
    for (const i of items) {
      if (isScalar(i)) continue;
      if (isMap(i)) alternatives.push(compileMap(src, name, i, ctx, probes));
      else throw new RuleError(`search identifier '${name}' has a list entry that is neither a value nor a map`, lineOf(src, i) ?? line);
    }
    return { test: anyOf(alternatives), probes };
  }
  if (isScalar(node) && node.value !== null && node.value !== undefined) {
    const k = keywordTest([value(src, node, [], KEYWORDS)], false, false);
    return { test: k.test, probes: k.probes };
  }
  throw new RuleError(`search identifier '${name}' is empty`, line);
}

/** Plain keyword values (a list under an identifier) take no modifiers and no placeholders. */
const KEYWORDS: ModifierContext = { placeholders: {}, hasField: false };

function compileMap(src: Source, name: string, map: YAMLMap, ctx: DetectionContext, probes: KeywordProbe[]): CostedTest {
  if (map.items.length === 0) throw new RuleError(`search identifier '${name}' is an empty map`, lineOf(src, map));
  const tests = map.items.map((pair) => {
    const key = scalarText(pair.key);
    const line = lineOf(src, pair.key);
    const [field = '', ...modNames] = key.split('|');
    const mods: Modifier[] = [];
    for (const m of modNames) {
      if (!isModifier(m)) throw new RuleError(`unknown modifier '${m}' in '${key}'; known modifiers: ${KNOWN_MODIFIERS.join(', ')}`, line);
      mods.push(m);
    }
    const all = mods.includes('all');
    const neg = mods.includes('neq');
    const node = deref(src, pair.value);
    let nodes: unknown[];
    if (isSeq(node)) nodes = node.items.length === 0 ? [null] : node.items.map((i) => deref(src, i));
    else if (node === null || node === undefined) nodes = [null];
    else nodes = [node];
    const mctx: ModifierContext = { placeholders: ctx.placeholders, hasField: field !== '' };
    const values = nodes.map((n) => {
      if (n !== null && !isScalar(n)) throw new RuleError(`the value of '${key}' must be a value or a list of values, not a ${isMap(n) ? 'map' : 'nested list'}`, lineOf(src, n) ?? line);
      return value(src, n, mods, mctx, key, line);
    });
    try {
      if (field === '') {
        const k = keywordTest(values, all, neg);
        probes.push(...k.probes);
        return k.test;
      }
      return fieldItemTest(field, values, all, neg, ctx.fields.index);
    } catch (e) {
      if (e instanceof ModifierError) throw new RuleError(`'${key}': ${e.message}`, line);
      throw e;
    }
  });
  return andAll(tests);
}

/** One value of an item with its modifiers applied; `key` and `line` locate problems. */
function value(src: Source, node: Scalar | null, mods: readonly Modifier[], mctx: ModifierContext, key = '', line?: number): SigmaValue {
  try {
    return applyModifiers(rawValue(src, node), mods, mctx);
  } catch (e) {
    if (e instanceof ModifierError) throw new RuleError(key ? `'${key}': ${e.message}` : e.message, lineOf(src, node) ?? line);
    throw e;
  }
}

function rawValue(src: Source, node: Scalar | null): RawValue {
  if (node === null) return { kind: 'null' };
  const v: unknown = node.value;
  if (v === null || v === undefined) return { kind: 'null' };
  if (typeof v === 'boolean') return { kind: 'bool', b: v };
  if (typeof v === 'number' || typeof v === 'bigint') {
    const source = node.range ? src.text.slice(node.range[0], node.range[1]).trim() : String(v);
    return { kind: 'num', n: Number(v), source };
  }
  return { kind: 'str', s: scalarText(node) };
}
