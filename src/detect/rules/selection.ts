/** Which loaded rules run (RuleSelection): status, minimum level, tags, logsources, disabled ids. */
import { SIGMA_LEVELS, type RuleInfo, type SigmaLevel } from '../types.ts';

export interface RuleSelection {
  /** e.g. ['stable','test'] */
  readonly status?: readonly string[];
  /** Rules below this level are not run. */
  readonly minLevel?: SigmaLevel;
  /** Run only rules having any of these tags (glob `*` allowed, e.g. 'attack.t1059*'). */
  readonly tags?: readonly string[];
  readonly excludeTags?: readonly string[];
  /** 'product/category/service' with `*` wildcards, e.g. 'windows/process_creation/*'. */
  readonly logsources?: readonly string[];
  readonly disabledIds?: readonly string[];
}

/** Case-insensitive glob (`*`, `?`) as a full-match regex. */
function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'is');
}

/** Compiles the selection into a predicate over rule metadata (undefined fields restrict nothing). */
export function ruleSelector(sel: RuleSelection | undefined): (r: RuleInfo) => boolean {
  if (!sel) return () => true;
  const status = sel.status?.length ? new Set(sel.status.map((s) => s.toLowerCase())) : null;
  const minRank = sel.minLevel ? SIGMA_LEVELS.indexOf(sel.minLevel) : -1;
  const tags = sel.tags?.length ? sel.tags.map(glob) : null;
  const excluded = sel.excludeTags?.length ? sel.excludeTags.map(glob) : null;
  const logsources = sel.logsources?.length
    ? sel.logsources.map((p) => {
        const parts = p.split('/');
        while (parts.length < 3) parts.push('*');
        return parts.slice(0, 3).map(glob);
      })
    : null;
  const disabled = sel.disabledIds?.length ? new Set(sel.disabledIds.map((s) => s.toLowerCase())) : null;
  return (r) => {
    if (status && !status.has(r.status.toLowerCase())) return false;
    if (minRank >= 0 && SIGMA_LEVELS.indexOf(r.level) < minRank) return false;
    if (tags && !r.tags.some((t) => tags.some((g) => g.test(t)))) return false;
    if (excluded && r.tags.some((t) => excluded.some((g) => g.test(t)))) return false;
    if (logsources) {
      const ls = [r.logsource.product, r.logsource.category, r.logsource.service];
      if (!logsources.some((parts) => parts.every((g, i) => g.test(ls[i]!)))) return false;
    }
    if (disabled && disabled.has(r.id.toLowerCase())) return false;
    return true;
  };
}
