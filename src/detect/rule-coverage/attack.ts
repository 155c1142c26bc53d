/**
 * ATT&CK identifiers read from Sigma rule tags: techniques (`attack.t1059`, `attack.t1059.001` → `T1059`,
 * `T1059.001`) and tactics (`attack.execution`, `attack.defense-evasion`; SigmaHQ's older underscore
 * spelling `attack.defense_evasion` is read the same). Groups, software and other tags are ignored.
 */

/**
 * Enterprise tactics in matrix order (ATT&CK v18 splits defense evasion into stealth and defense
 * impairment; the old tactic is kept for rules tagged before the split).
 */
export const TACTIC_ORDER: readonly string[] = [
  'reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence', 'privilege-escalation',
  'defense-evasion', 'stealth', 'defense-impairment', 'credential-access', 'discovery', 'lateral-movement',
  'collection', 'command-and-control', 'exfiltration', 'impact',
];

/** Column of techniques whose rules name no tactic. */
export const NO_TACTIC = 'no-tactic';

const TACTICS = new Set(TACTIC_ORDER);
const TECHNIQUE_TAG = /^attack\.t(\d{4})(?:\.(\d{3}))?$/i;

/** `attack.t1059.001` → `T1059.001`; undefined for any other tag. */
export function techniqueOf(tag: string): string | undefined {
  const m = TECHNIQUE_TAG.exec(tag);
  if (m === null) return undefined;
  return m[2] === undefined ? `T${m[1]}` : `T${m[1]}.${m[2]}`;
}

/** `attack.credential_access` / `attack.credential-access` → `credential-access`; undefined for other tags. */
export function tacticOf(tag: string): string | undefined {
  if (!tag.toLowerCase().startsWith('attack.')) return undefined;
  const name = tag.slice('attack.'.length).toLowerCase().replaceAll('_', '-');
  return TACTICS.has(name) ? name : undefined;
}

/** Techniques and tactics a rule's tags name, each once. */
export function attackOf(tags: readonly string[]): { techniques: string[]; tactics: string[] } {
  const techniques = new Set<string>();
  const tactics = new Set<string>();
  for (const t of tags) {
    const tech = techniqueOf(t);
    if (tech !== undefined) techniques.add(tech);
    else {
      const tac = tacticOf(t);
      if (tac !== undefined) tactics.add(tac);
    }
  }
  return { techniques: [...techniques], tactics: [...tactics] };
}

/** Sorts tactics in matrix order (unknown ones last, `no-tactic` at the end). */
export function compareTactics(a: string, b: string): number {
  const rank = (t: string): number => (t === NO_TACTIC ? TACTIC_ORDER.length + 1 : TACTICS.has(t) ? TACTIC_ORDER.indexOf(t) : TACTIC_ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** T1059 < T1059.001 < T1060. */
export function compareTechniques(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
