/**
 * Sigma correlation rules (spec v2.x, `sigma-correlation-rules-specification.md`, plus pySigma's
 * extensions: value_sum / value_avg / value_percentile / value_median, range conditions, string
 * conditions for the temporal types) as parsed by parse.ts and evaluated by engine.ts.
 */
import type { RuleInfo } from '../types.ts';

export type CorrelationType = 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered' | 'value_sum' | 'value_avg' | 'value_percentile' | 'value_median';

export const CORRELATION_TYPES: readonly CorrelationType[] = ['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile', 'value_median'];

/** Every comparison present must hold (a range is two of them, e.g. gt + lte). */
export interface CorrelationCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
}

/** A temporal string condition: `a and (b or not c)` over rule names/ids (ids after resolve). */
export type RuleExpression = { op: 'ref'; rule: string } | { op: 'not'; arg: RuleExpression } | { op: 'and' | 'or'; args: RuleExpression[] };

export interface CorrelationRule {
  /** id, title, level, tags … of the correlation itself (logsource is empty). */
  readonly info: RuleInfo;
  /** The `name` field; '' when none. */
  readonly name: string;
  readonly type: CorrelationType;
  /** After resolve: ids of base rules / inner correlations, in listed order (before: the references as written). */
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  /** alias → (referenced rule id → field name in that rule's events). After resolve keyed by id. */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly timespanMs: number;
  /** For temporal: the number of distinct rules seen (temporal_ordered: the length of the ordered chain). {} with an expression. */
  readonly condition: CorrelationCondition;
  /** Temporal string condition. */
  readonly expression?: RuleExpression;
  /** condition.field ([] when none); value_count may take several (distinct tuples). */
  readonly valueFields: readonly string[];
  /** value_percentile: 0..100 (default 50); value_median: 50. */
  readonly percentile?: number;
  readonly generate: boolean;
  /** Line of the document (for problems). */
  readonly line: number;
}

/** One base-rule (or inner-correlation) match, as the worker reports it. */
export interface CorrelationInput {
  readonly ruleId: string;
  /** Event time, ns since epoch, decimal string. */
  readonly timeNs: string;
  /** The matching detection's fingerprint. */
  readonly fingerprint: string;
  readonly host: string;
  /** Values of the fields the correlations need from this rule's events (see Correlator.fieldsFor). */
  readonly fields: Readonly<Record<string, string>>;
}

export interface CorrelationOutput {
  readonly rule: CorrelationRule;
  /** group-by field (alias name when aliased) → value. */
  readonly group: Readonly<Record<string, string>>;
  readonly windowStartNs: string;
  readonly windowEndNs: string;
  /** Count / distinct count / distinct rules (ordered: chain length) / aggregate. */
  readonly value: number;
  /** Fingerprints, first 100 at most, in event-time order. */
  readonly contributing: readonly string[];
  readonly contributingCount: number;
  /** Distinct non-empty hosts of the contributing events (at most 20). */
  readonly hosts: readonly string[];
  /** Deterministic: sha256(rule id, sorted group, windowStartNs, windowEndNs) hex, 32 chars. */
  readonly fingerprint: string;
}
