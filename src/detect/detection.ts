/**
 * A detection: one rule matching one log record (or, for a correlation rule, one group's window).
 * This is what the store writes and what alerting builds Keep alerts from; workers build it and post
 * it to the main thread.
 */
import type { SigmaLevel } from './types.ts';

export type DetectionSource = 'stream' | 'hunt';

/**
 * The record a detection fired on. Every detection of one record shares one DetectedEvent object,
 * so it is built once, crosses the worker boundary once (structured clone keeps shared references)
 * and is stored once (`<table>_events`), however many rules match.
 */
export interface DetectedEvent {
  /** Stable identity of the record: the same record evaluated twice (a retry, a replay, a hunt) gives the same id. */
  readonly id: string;
  /** Event time, nanoseconds since the epoch, decimal string (record time, else observed time, else receive time). */
  readonly timeNs: string;
  readonly host: string;
  /** The mapped Sigma event as JSON. */
  readonly sigmaEvent: string;
  /** The original OTLP body: the string itself, or JSON for structured bodies. */
  readonly body: string;
  readonly logAttributes: Readonly<Record<string, string>>;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly severityText: string;
  readonly severityNumber: number;
  readonly traceId: string;
  readonly spanId: string;
}

/** What a correlation detection adds: the group, its window in event time and the aggregate. */
export interface CorrelationInfo {
  /** event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile, value_median. */
  readonly type: string;
  /** group-by field → value. */
  readonly group: Readonly<Record<string, string>>;
  readonly windowStartNs: string;
  readonly windowEndNs: string;
  /** The count or aggregated value the condition was checked on. */
  readonly value: number;
  /** Fingerprints of the contributing detections (bounded sample). */
  readonly contributing: readonly string[];
}

export interface Detection {
  /** Event time (= event.timeNs for a single-event rule; the window end for a correlation). */
  readonly eventTimeNs: string;
  /** When otel-sigma evaluated the record, milliseconds since the epoch. */
  readonly detectedAtMs: number;
  readonly ruleId: string;
  readonly ruleTitle: string;
  readonly ruleLevel: SigmaLevel;
  readonly ruleStatus: string;
  readonly ruleTags: readonly string[];
  readonly ruleDescription: string;
  readonly ruleReferences: readonly string[];
  readonly ruleFalsePositives: readonly string[];
  readonly ruleAuthor: string;
  readonly product: string;
  readonly category: string;
  readonly service: string;
  readonly host: string;
  /** Field → value (as string) of the fields the rule looked at. */
  readonly matched: Readonly<Record<string, string>>;
  /** The triggering record (for a correlation: the event that completed the window). */
  readonly event: DetectedEvent;
  /**
   * Stable identity of (rule, record): the same record evaluated twice gives the same value, so
   * replays and retries can be deduplicated on it.
   */
  readonly fingerprint: string;
  readonly source: DetectionSource;
  readonly correlation?: CorrelationInfo;
}
