/** The messages between the main thread and detection workers. Workers return results; they never throw across. */
import type { RawExport } from '../decode/export-request.ts';
import type { ErrorCode } from '../errors.ts';
import type { Detection } from './detection.ts';
import type { RuleSelection } from './ruleset.ts';

export interface DetectTask extends RawExport {
  readonly receivedAtMs: number;
}

export interface DetectStats {
  readonly records: number;
  readonly events: number;
  readonly ruleEvaluations: number;
  readonly evalErrors: number;
}

export type DetectResult =
  | { readonly ok: true; readonly rejected: number; readonly errorMessage: string; readonly detections: Detection[]; readonly stats: DetectStats }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly retryable: boolean };

/** What a worker needs to build its detector; sent once as workerData. */
export interface WorkerConfig {
  readonly rulePaths: readonly string[];
  readonly mappingFiles: readonly string[];
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  readonly select: RuleSelection;
  readonly maxRequestBytes: number;
}
