/**
 * Where a hunt's pages are evaluated: on the detection worker pool (huntThreads; the CLI), or in-process
 * (one thread; small rule sets, tests). Both run page-eval.ts over the page text.
 */
import type { Detection } from '../detect/detection.ts';
import { DetectPool } from '../detect/pool.ts';
import type { Ruleset } from '../detect/ruleset.ts';
import type { RulesetSummary, WorkerConfig } from '../detect/task.ts';
import { PipelineError } from '../errors.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper } from '../map/map-records.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { availableCores } from '../os/available-cores.ts';
import { evaluatePageText } from './page-eval.ts';

export interface PageDetections {
  readonly detections: Detection[];
  /** Rows that could not be evaluated: a body_v2 the reader cannot read, or an engine error. */
  readonly unevaluated: number;
}

export interface PageEvaluator {
  /** Pages evaluated at once (the hunt keeps about twice as many in flight). */
  readonly parallelism: number;
  /** A page of rows as JSONEachRow bytes (the pool takes them over: do not reuse them). */
  evaluate(page: Uint8Array): Promise<PageDetections>;
  close(): Promise<void>;
}

export function inProcessEvaluator(ruleset: Pick<Ruleset, 'detector'>, mapping?: LogsourceMapping): PageEvaluator {
  const mapper = createRecordMapper({ mapping: mapping ?? loadLogsourceMapping() });
  const decoder = new TextDecoder();
  return {
    parallelism: 1,
    evaluate(page) {
      const out = evaluatePageText(decoder.decode(page), mapper, ruleset.detector, Date.now());
      return Promise.resolve({ detections: out.detections, unevaluated: out.evalErrors });
    },
    close: () => Promise.resolve(),
  };
}

const HUNT_WORKER = new URL('./worker.ts', import.meta.url).href;

export type PoolEvaluator = PageEvaluator & { readonly summary: RulesetSummary };

/**
 * Workers a hunt runs when `workers.threads` is 0: one per core but one. The hunt's own thread reads the
 * pages and logs the detections, and an embedded ClickHouse works beside it: on 2 cores one worker beat
 * two on 30,000, 100,000 and 1,000,000 rows (docs/hunting.md), the second's compile and its share of the
 * cores costing more than it evaluated.
 */
export function huntThreads(configured: number, cores = availableCores()): number {
  return configured > 0 ? configured : Math.max(1, cores - 1);
}

/** Resolves once a worker has compiled the rules (the others join as they finish); `summary` says what loaded. */
export async function poolEvaluator(worker: WorkerConfig, threads: number): Promise<PoolEvaluator> {
  const pool = new DetectPool({ threads: huntThreads(threads), maxQueue: 0, worker, filename: HUNT_WORKER });
  let summary: RulesetSummary;
  try {
    summary = await pool.warmUp({ first: true });
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
      return { detections: r.detections, unevaluated: r.rejected };
    },
    close: () => pool.close(),
  };
}
