/**
 * Where a hunt's pages are evaluated: on the detection worker pool (every core; the CLI), or in-process
 * (one thread; small rule sets, tests). Both run page-eval.ts over the page text.
 */
import type { Detection } from '../detect/detection.ts';
import { DetectPool } from '../detect/pool.ts';
import type { Ruleset } from '../detect/ruleset.ts';
import type { RulesetSummary, WorkerConfig } from '../detect/task.ts';
import { PipelineError } from '../errors.ts';
import { createRecordMapper } from '../map/map-records.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { evaluatePageText } from './page-eval.ts';

export interface PageEvaluator {
  /** Pages evaluated at once (the hunt keeps about twice as many in flight). */
  readonly parallelism: number;
  /** A page of rows as JSONEachRow bytes (the pool takes them over: do not reuse them). */
  evaluate(page: Uint8Array): Promise<Detection[]>;
  close(): Promise<void>;
}

export function inProcessEvaluator(ruleset: Pick<Ruleset, 'detector'>, mapping?: LogsourceMapping): PageEvaluator {
  const mapper = createRecordMapper(mapping ? { mapping } : {});
  const decoder = new TextDecoder();
  return {
    parallelism: 1,
    evaluate: (page) => Promise.resolve(evaluatePageText(decoder.decode(page), mapper, ruleset.detector, Date.now()).detections),
    close: () => Promise.resolve(),
  };
}

const HUNT_WORKER = new URL('./worker.ts', import.meta.url).href;

export type PoolEvaluator = PageEvaluator & { readonly summary: RulesetSummary };

/** The pool compiles the rules in every worker before this resolves; `summary` says what loaded. */
export async function poolEvaluator(worker: WorkerConfig, threads: number): Promise<PoolEvaluator> {
  const pool = new DetectPool({ threads, maxQueue: 0, worker, filename: HUNT_WORKER });
  let summary: RulesetSummary;
  try {
    summary = await pool.warmUp();
  } catch (err) {
    await pool.close();
    throw err;
  }
  return {
    parallelism: pool.threads,
    summary,
    async evaluate(page) {
      const r = await pool.run({ body: page, format: 'json', encoding: 'identity', receivedAtMs: Date.now() });
      if (!r.ok) throw new PipelineError(r.code, r.message, r.retryable);
      return r.detections;
    },
    close: () => pool.close(),
  };
}
