/** The messages between the main thread and detection workers. Workers return results; they never throw across. */
import type { ShareHandle } from './array-share.ts';
import type { RawExport } from '../decode/export-request.ts';
import type { RecordLimits } from '../decode/record-limits.ts';
import type { ErrorCode } from '../errors.ts';
import type { CorrelationInput, CorrelationRule } from './correlation/types.ts';
import type { Detection } from './detection.ts';
import type { RuleSelection } from './ruleset.ts';
import type { LogsourceMapping } from '../map/types.ts';
import type { RuleProblem } from './types.ts';
import type { RuleCoverage } from './rule-coverage/rule-stats.ts';
import type { RuleTextColumns } from './build-detection.ts';

export interface DetectTask extends RawExport {
  readonly receivedAtMs: number;
}

export interface DetectStats {
  readonly records: number;
  readonly events: number;
  readonly ruleEvaluations: number;
  readonly evalErrors: number;
  /** Detections over the per-record / per-request bounds (run-task.ts), not stored. */
  readonly detectionsDropped: number;
}

export type DetectResult =
  | {
    readonly ok: true;
    readonly rejected: number;
    readonly errorMessage: string;
    readonly detections: Detection[];
    /** Matches of rules that correlation rules reference, for the process's one correlation stage. */
    readonly correlationInputs: CorrelationInput[];
    readonly stats: DetectStats;
    /** Events routed to each logsource's rules (routing key `product/category/service` → count), for the coverage counters. */
    readonly routed?: Readonly<Record<string, number>>;
  }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly retryable: boolean };

/** What a worker needs to build its detector; sent once as workerData. */
export interface WorkerConfig {
  readonly rulePaths: readonly string[];
  /** Loaded and validated once on the main thread: a worker then loads no mapping files and no schema library. */
  readonly mapping: LogsourceMapping;
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  readonly select: RuleSelection;
  readonly maxRequestBytes: number;
  /** Bounds on records per request, attributes per record and value length (receiver.*); defaults when absent. */
  readonly limits?: RecordLimits;
  /**
   * Whether detections carry the record's original body (storage.store_body). Without it they carry '' and the
   * body, the largest value of an attack-dense record's detections, never crosses to the main thread. Default true.
   */
  readonly keepBody?: boolean;
  /** How the pool's workers share their automata; absent: each holds its own. */
  readonly share?: ShareHandle;
}

/** What a worker compiled, reported once at warm-up: the main thread never compiles the rules itself. */
export interface RulesetSummary {
  readonly loaded: number;
  readonly rejected: number;
  readonly skipped: number;
  readonly compileMs: number;
  /** The first error problems (at most SUMMARY_MAX_ERRORS); `errorCount` has them all. */
  readonly errors: readonly RuleProblem[];
  readonly errorCount: number;
  /** Heap (and typed arrays) one worker holds with the ruleset compiled, MiB. */
  readonly workerHeapMb?: number;
  /** The automata held once in shared memory for every worker, MiB (rules/shared-arrays.ts). */
  readonly sharedMib?: number;
  /** The correlation rules that loaded, resolved against the loaded rules: the main thread's correlation stage runs them. */
  readonly correlations: readonly CorrelationRule[];
  /** Rules per logsource and their ATT&CK tags (one entry per logsource), for the coverage report. */
  readonly coverage: RuleCoverage;
  /**
   * The text of each rule whose id is unique, as UTF-8 JSON of `RuleTextByRuleId`: every worker drops it
   * after compiling and its detections carry it empty; DetectPool fills it in on the main thread, which
   * holds it once for every worker. One worker of a pool sends it (the one whose automata the others adopt).
   */
  readonly ruleText?: Uint8Array;
}

export const SUMMARY_MAX_ERRORS = 50;

export type RuleTextByRuleId = Readonly<Record<string, RuleTextColumns>>;
