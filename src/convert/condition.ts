/** Sigma `condition` text → a small tree (and/or/not, `1 of x*`, `all of them`, identifiers). */
export type CondNode =
  | { readonly kind: 'and' | 'or'; readonly parts: readonly CondNode[] }
  | { readonly kind: 'not'; readonly part: CondNode }
  | { readonly kind: 'id'; readonly name: string }
  | { readonly kind: 'of'; readonly quantifier: 'any' | 'all'; readonly pattern: string };

export function parseCondition(text: string): CondNode {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const lower = (): string | undefined => tokens[i]?.toLowerCase();
  const orExpr = (): CondNode => {
    const parts = [andExpr()];
    while (lower() === 'or') { i++; parts.push(andExpr()); }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  };
  const andExpr = (): CondNode => {
    const parts = [notExpr()];
    while (lower() === 'and') { i++; parts.push(notExpr()); }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  };
  const notExpr = (): CondNode => {
    if (lower() === 'not') { i++; return { kind: 'not', part: notExpr() }; }
    return atom();
  };
  const atom = (): CondNode => {
    const t = peek();
    if (t === undefined) throw new Error(`condition "${text}" ends early`);
    i++;
    if (t === '(') {
      const n = orExpr();
      if (peek() !== ')') throw new Error(`condition "${text}": missing ")"`);
      i++;
      return n;
    }
    const next = tokens[i]?.toLowerCase();
    if ((t === '1' || t.toLowerCase() === 'all' || t.toLowerCase() === 'any') && next === 'of') {
      i++;
      const pattern = tokens[i++];
      if (pattern === undefined) throw new Error(`condition "${text}": "of" without a target`);
      return { kind: 'of', quantifier: t.toLowerCase() === 'all' ? 'all' : 'any', pattern };
    }
    if (t === '|' || t === ')') throw new Error(`condition "${text}": unexpected "${t}"`);
    return { kind: 'id', name: t };
  };
  const n = orExpr();
  if (i !== tokens.length) throw new Error(`condition "${text}": unexpected "${tokens[i]!}"`);
  return n;
}
