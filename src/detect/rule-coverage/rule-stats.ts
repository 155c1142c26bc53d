/**
 * What a loaded ruleset covers, per logsource: how many rules, whether the logsource has a mapping, and
 * the ATT&CK techniques its rules are tagged with. Small (one entry per logsource, not per rule), so a
 * worker reports it with its ruleset summary and the main thread builds the coverage report from it.
 */
import type { LogsourceMapping } from '../../map/types.ts';
import type { RuleInfo } from '../types.ts';
import { attackOf } from './attack.ts';

/** Counter key of the rules whose logsource has no mapping (they run on the mapping's fallback events). */
export const FALLBACK_KEY = '(fallback)';

/** `product/category/service`, missing parts empty: `windows/process_creation/`, `linux//sshd`. */
export function logsourceKey(ls: { readonly product?: string | undefined; readonly category?: string | undefined; readonly service?: string | undefined }): string {
  return `${ls.product ?? ''}/${ls.category ?? ''}/${ls.service ?? ''}`;
}

export interface LogsourceRules {
  readonly product: string;
  readonly category: string;
  readonly service: string;
  readonly rules: number;
  /** false: no mapping entry, the rules only see the fallback (generic) events. */
  readonly mapped: boolean;
  /** Technique id → rules of this logsource tagged with it. */
  readonly techniques: Readonly<Record<string, number>>;
  /** Technique id (no sub-technique) → rules tagged with it or any of its sub-techniques, each rule once. */
  readonly groups: Readonly<Record<string, number>>;
}

export interface RuleCoverage {
  readonly logsources: readonly LogsourceRules[];
  /** Technique id → the tactics it is filed under (from the rules' tactic tags). */
  readonly tactics: Readonly<Record<string, readonly string[]>>;
}

export function summarizeRules(rules: readonly RuleInfo[], mapping: LogsourceMapping): RuleCoverage {
  const mapped = new Set(mapping.entries.map(logsourceKey));
  const byKey = new Map<string, { product: string; category: string; service: string; rules: number; mapped: boolean; techniques: Record<string, number>; groups: Record<string, number> }>();
  const pairs: { techniques: string[]; tactics: string[] }[] = [];
  for (const r of rules) {
    const key = logsourceKey(r.logsource);
    let ls = byKey.get(key);
    if (ls === undefined) {
      ls = { ...r.logsource, rules: 0, mapped: mapped.has(key), techniques: {}, groups: {} };
      byKey.set(key, ls);
    }
    ls.rules++;
    const attack = attackOf(r.tags);
    for (const t of attack.techniques) ls.techniques[t] = (ls.techniques[t] ?? 0) + 1;
    for (const g of new Set(attack.techniques.map((t) => t.split('.')[0]!))) ls.groups[g] = (ls.groups[g] ?? 0) + 1;
    if (attack.techniques.length > 0) pairs.push(attack);
  }
  const logsources = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return { logsources, tactics: tacticsOfTechniques(pairs) };
}

/**
 * Which tactics a technique is filed under. A rule tagged with one technique files it under each of its
 * tactics; a rule with several techniques and several tactics does not say which goes with which, so its
 * tactics are used only for techniques no single-technique rule files, and a sub-technique without any
 * takes its parent's.
 */
export function tacticsOfTechniques(rules: readonly { readonly techniques: readonly string[]; readonly tactics: readonly string[] }[]): Record<string, string[]> {
  const certain = new Map<string, Set<string>>();
  const loose = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, t: string, tactics: readonly string[]): void => {
    let s = m.get(t);
    if (s === undefined) m.set(t, (s = new Set()));
    for (const x of tactics) s.add(x);
  };
  for (const r of rules) {
    const single = r.techniques.length === 1 || r.tactics.length <= 1;
    for (const t of r.techniques) add(single ? certain : loose, t, r.tactics);
  }
  const out: Record<string, string[]> = {};
  const all = new Set([...certain.keys(), ...loose.keys()]);
  for (const t of all) {
    const c = certain.get(t);
    out[t] = [...(c !== undefined && c.size > 0 ? c : (loose.get(t) ?? []))];
  }
  for (const t of all) {
    const dot = t.indexOf('.');
    if (out[t]!.length === 0 && dot > 0) out[t] = [...(out[t.slice(0, dot)] ?? [])];
  }
  return out;
}
