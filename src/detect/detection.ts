/**
 * A detection: one rule matching one log record. This is the row the store writes and the
 * input alerting builds Keep alerts from; workers build it and post it to the main thread.
 */
import type { SigmaLevel } from './types.ts';

export type DetectionSource = 'stream' | 'hunt';

export interface Detection {
  /** Event time, nanoseconds since the epoch, decimal string (record time, else observed time, else receive time). */
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
  /**
   * Stable identity of (rule, record): the same record evaluated twice gives the same value, so
   * replays and retries can be deduplicated on it.
   */
  readonly fingerprint: string;
  readonly source: DetectionSource;
}
