/**
 * Sigma conditions: parsing and resolution against a rule's search identifiers.
 *
 * Grammar (spec §Condition; precedence from loosest: or, and, not, `x of`, parentheses):
 *   expr    := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | primary
 *   primary := '(' expr ')' | ('1' | 'any' | 'all') 'of' pattern | identifier
 * Operators are lower-case only, as in pySigma (`AND` is an error, not an identifier). Old pipe
 * syntax (`| count() by x > 5`, `| near`) is refused: it is what correlation rules replaced.
 */

export type ConditionAst =
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'and' | 'or'; readonly args: readonly ConditionAst[] }
  | { readonly k: 'not'; readonly arg: ConditionAst }
  | { readonly k: 'of'; readonly all: boolean; readonly pattern: string };

/** A condition after `x of` patterns became identifiers. */
export type ResolvedCondition =
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'and' | 'or'; readonly args: readonly ResolvedCondition[] }
  | { readonly k: 'not'; readonly arg: ResolvedCondition };

export class ConditionError extends Error {}

const DEPRECATED_AGGREGATION = 'deprecated aggregation, rewrite as a correlation rule';

const OPERATORS = new Set(['and', 'or', 'not', 'of']);
const isUpperOperator = (t: string) => t !== t.toLowerCase() && OPERATORS.has(t.toLowerCase());

export function parseCondition(text: string): ConditionAst {
  if (text.includes('|')) throw new ConditionError(`${DEPRECATED_AGGREGATION} (the condition uses the old pipe syntax: '${text.trim()}')`);
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (msg: string): never => {
    throw new ConditionError(`${msg} in condition '${text.trim()}'`);
  };

  const expr = (): ConditionAst => {
    const args = [and()];
    while (peek() === 'or') {
      pos++;
      args.push(and());
    }
    return args.length === 1 ? args[0]! : { k: 'or', args };
  };
  const and = (): ConditionAst => {
    const args = [not()];
    while (peek() === 'and') {
      pos++;
      args.push(not());
    }
    return args.length === 1 ? args[0]! : { k: 'and', args };
  };
  const not = (): ConditionAst => {
    if (peek() === 'not') {
      pos++;
      return { k: 'not', arg: not() };
    }
    return primary();
  };
  const primary = (): ConditionAst => {
    const t = peek();
    if (t === undefined) return fail('unexpected end');
    pos++;
    if (t === '(') {
      const e = expr();
      if (peek() !== ')') fail(peek() === undefined ? "missing ')'" : `expected ')' but found '${peek()}'`);
      pos++;
      return e;
    }
    if (t === ')') return fail("unexpected ')'");
    if ((t === '1' || t === 'any' || t === 'all') && peek() === 'of') {
      pos++;
      const pattern = peek();
      if (pattern === undefined || pattern === '(' || pattern === ')' || OPERATORS.has(pattern)) return fail(`'${t} of' needs an identifier pattern or 'them'`);
      pos++;
      return { k: 'of', all: t === 'all', pattern };
    }
    if (OPERATORS.has(t) || isUpperOperator(t)) return unexpected(t);
    if (t === 'near' || t === 'count') return fail(DEPRECATED_AGGREGATION);
    return { k: 'id', name: t };
  };

  const unexpected = (t: string): never =>
    isUpperOperator(t) ? fail(`operators must be lower-case ('${t.toLowerCase()}', not '${t}')`) : fail(`unexpected '${t}'`);
  const ast = expr();
  if (pos < tokens.length) unexpected(tokens[pos]!);
  return ast;
}

/**
 * Replaces `x of` with the identifiers it covers (`them`: every identifier not starting with
 * `_`; a pattern: full-match glob, skipping `_` identifiers unless the pattern starts with `_`).
 * A pattern that covers nothing drops out of its parent, as in pySigma; null if nothing is left.
 */
export function resolveCondition(ast: ConditionAst, identifiers: readonly string[]): ResolvedCondition | null {
  switch (ast.k) {
    case 'id':
      if (!identifiers.includes(ast.name)) {
        throw new ConditionError(`the condition references '${ast.name}', which the detection does not define (defined: ${identifiers.join(', ') || 'none'})`);
      }
      return ast;
    case 'not': {
      const arg = resolveCondition(ast.arg, identifiers);
      return arg && { k: 'not', arg };
    }
    case 'and':
    case 'or': {
      const args = ast.args.map((a) => resolveCondition(a, identifiers)).filter((a): a is ResolvedCondition => a !== null);
      return args.length === 0 ? null : args.length === 1 ? args[0]! : { k: ast.k, args };
    }
    case 'of': {
      const names = identifiersMatching(ast.pattern, identifiers);
      if (names.length === 0) return null;
      const args = names.map((name): ResolvedCondition => ({ k: 'id', name }));
      return args.length === 1 ? args[0]! : { k: ast.all ? 'and' : 'or', args };
    }
  }
}

function identifiersMatching(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((n) => !n.startsWith('_'));
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 's');
  const underscore = pattern.startsWith('_');
  return identifiers.filter((n) => re.test(n) && (underscore || !n.startsWith('_')));
}
