/** What the workers must report to the correlation stage, derived once from the correlation rules. */
import { Correlator } from './correlation/engine.ts';
import type { CorrelationRule } from './correlation/types.ts';
import type { CorrelationPlan } from './run-task.ts';

export function correlationPlan(rules: readonly CorrelationRule[]): CorrelationPlan {
  if (rules.length === 0) return { referenced: new Map(), suppressed: new Set() };
  // Limits do not matter here: this instance only answers questions about the rules.
  const c = new Correlator(rules, { latenessMs: 0, maxGroups: 1, maxGroupsPerRule: 1, maxEventsPerGroup: 1 });
  return {
    referenced: new Map([...c.referencedRules()].map((id) => [id, c.fieldsFor(id)])),
    suppressed: c.suppressedRules(),
  };
}
