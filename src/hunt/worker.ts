/**
 * Hunt worker (piscina, run by DetectPool with `filename`): compiles the ruleset once like the stream's
 * worker, then evaluates pages of stored rows. A task's body is a page of SigNoz rows as JSONEachRow
 * (ClickHouse's own output, read by the main thread), not an OTLP request: parsing, mapping and
 * evaluating all happen here, so the main thread only moves bytes. Never throws across the boundary.
 */
import { workerData } from 'node:worker_threads';
import { summarizeRules } from '../detect/rule-coverage/rule-stats.ts';
import { loadRuleset } from '../detect/ruleset.ts';
import { SUMMARY_MAX_ERRORS, type DetectResult, type DetectTask, type RulesetSummary, type WorkerConfig } from '../detect/task.ts';
import { ErrorCode } from '../errors.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper } from '../map/map-records.ts';
import { evaluatePageText } from './page-eval.ts';

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
  correlations: ruleset.correlations,
  coverage: summarizeRules(ruleset.rules, mapping),
};
const mapper = createRecordMapper({ mapping });
const decoder = new TextDecoder();

export function describe(): RulesetSummary {
  return summary;
}

export default function huntPage(task: DetectTask): DetectResult {
  try {
    const out = evaluatePageText(decoder.decode(task.body), mapper, ruleset.detector, Date.now());
    return {
      ok: true,
      rejected: out.evalErrors,
      errorMessage: out.evalErrors > 0 ? `${out.evalErrors} log records could not be evaluated` : '',
      detections: out.detections,
      correlationInputs: [],
      stats: { records: out.records, events: out.records, ruleEvaluations: 0, evalErrors: out.evalErrors, detectionsDropped: 0 },
    };
  } catch (err) {
    return { ok: false, code: ErrorCode.WORKER, message: `hunt worker failed: ${(err as Error).message}`, retryable: false };
  }
}
