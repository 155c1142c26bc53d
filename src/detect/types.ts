import type { SigmaEvent } from '../map/types.ts';

export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export const SIGMA_LEVELS: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];

export interface RuleLogsource {
  readonly product: string;
  readonly category: string;
  readonly service: string;
}

/** Rule metadata carried with every detection (what an analyst needs without the rule file). */
export interface RuleInfo {
  readonly id: string;
  readonly title: string;
  readonly level: SigmaLevel;
  readonly status: string;
  readonly tags: readonly string[];
  readonly description: string;
  readonly references: readonly string[];
  readonly falsepositives: readonly string[];
  readonly author: string;
  readonly logsource: RuleLogsource;
  /** Path of the file the rule came from. */
  readonly file: string;
}

export interface RuleProblem {
  readonly file: string;
  /** 1-based line in the file where the problem is, when known. */
  readonly line?: number;
  readonly ruleId?: string;
  readonly reason: string;
  /** `error` rejects the rule; `warning` loads it but tells the user something (e.g. unmapped logsource). */
  readonly severity: 'error' | 'warning';
}

export interface RuleMatch {
  readonly rule: RuleInfo;
  /** Values of the event fields the rule referenced that were present (field → value as string). */
  readonly matched: Readonly<Record<string, string>>;
}

/** A compiled ruleset: compiled once, evaluated for every event. */
export interface Detector {
  readonly ruleCount: number;
  evaluate(event: SigmaEvent): RuleMatch[];
  /** Events routed to each logsource's rules (routing key → count) since the last call; undefined when none. */
  takeRouted?(): Record<string, number> | undefined;
}
