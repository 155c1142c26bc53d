/**
 * Detection worker (piscina). Compiles the ruleset once at start-up (and says what it compiled through
 * `describe`), then per task: raw request bytes → decode → map → evaluate → detection rows. Never throws
 * across the thread boundary.
 */
import { workerData } from 'node:worker_threads';
import { decodeExport } from '../decode/export-request.ts';
import { isPipelineError, ErrorCode } from '../errors.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper } from '../map/map-records.ts';
import { buildDetection } from './build-detection.ts';
import type { Detection } from './detection.ts';
import { loadRuleset } from './ruleset.ts';
import { SUMMARY_MAX_ERRORS, type DetectResult, type DetectTask, type RulesetSummary, type WorkerConfig } from './task.ts';

const cfg = workerData as WorkerConfig;
const mapping = loadLogsourceMapping({ overrideFiles: cfg.mappingFiles });
const t0 = performance.now();
const ruleset = loadRuleset({ paths: cfg.rulePaths, mapping, placeholders: cfg.placeholders, select: cfg.select });
const errors = ruleset.problems.filter((p) => p.severity === 'error');
const summary: RulesetSummary = {
  loaded: ruleset.loaded,
  rejected: ruleset.rejected,
  skipped: ruleset.skipped,
  compileMs: Math.round(performance.now() - t0),
  errors: errors.slice(0, SUMMARY_MAX_ERRORS),
  errorCount: errors.length,
};
const mapper = createRecordMapper({ mapping });
/** The engine's own counters (rule evaluations after candidate pruning), when it keeps them. */
const counters = ruleset.detector as { readonly ruleEvaluations?: number };

/** Called once per worker at warm-up (piscina named task). */
export function describe(): RulesetSummary {
  return summary;
}

export default function detect(task: DetectTask): DetectResult {
  try {
    const req = decodeExport(task, cfg.maxRequestBytes);
    // Flushing the mapper's held auditd records at the end of each request keeps every acknowledged record
    // evaluated before the ack (no event waits in a worker across requests); auditd writes an event's
    // records together, so they arrive in one collector batch in practice.
    const events = mapper.map(req.records);
    for (const e of mapper.flush()) events.push(e);
    const detections: Detection[] = [];
    const now = Date.now();
    const evaluationsBefore = counters.ruleEvaluations ?? 0;
    let evalErrors = 0;
    for (const { event, record } of events) {
      let matches;
      try {
        matches = ruleset.detector.evaluate(event);
      } catch {
        evalErrors++;
        continue;
      }
      for (const m of matches) detections.push(buildDetection(m, event, record, now, 'stream'));
    }
    return {
      ok: true,
      rejected: evalErrors,
      errorMessage: evalErrors > 0 ? `${evalErrors} log records could not be evaluated` : '',
      detections,
      stats: { records: req.records.length, events: events.length, ruleEvaluations: (counters.ruleEvaluations ?? 0) - evaluationsBefore, evalErrors },
    };
  } catch (err) {
    if (isPipelineError(err)) return { ok: false, code: err.code, message: err.message, retryable: err.retryable };
    return { ok: false, code: ErrorCode.WORKER, message: `worker failed: ${(err as Error).message}`, retryable: false };
  }
}
