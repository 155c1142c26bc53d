/**
 * Hunt worker (piscina, run by DetectPool with `filename`): compiles the ruleset once as the stream's
 * worker does (worker-compile.ts), then evaluates pages of stored rows. A task's body is a page of SigNoz rows as JSONEachRow
 * (ClickHouse's own output, read by the main thread), not an OTLP request: parsing, mapping and
 * evaluating all happen here, so the main thread only moves bytes. Never throws across the boundary.
 */
import { workerData } from 'node:worker_threads';
import type { DetectResult, DetectTask, RulesetSummary, WorkerConfig } from '../detect/task.ts';
import { compileWorker } from '../detect/worker-compile.ts';
import { ErrorCode } from '../errors.ts';
import { evaluatePageText } from './page-eval.ts';

const cfg = workerData as WorkerConfig;
const { detector, mapper, takeSummary, boundHeap } = await compileWorker(cfg);
const keepBody = cfg.keepBody ?? true;
const decoder = new TextDecoder();

export function describe(): RulesetSummary {
  return takeSummary();
}

export default function huntPage(task: DetectTask): DetectResult {
  try {
    const out = evaluatePageText(decoder.decode(task.body), mapper, detector, Date.now(), keepBody);
    boundHeap();
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
