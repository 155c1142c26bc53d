/**
 * What every detection worker (the stream's, hunt's) does once at start-up: compile the configured
 * ruleset (sharing the automata with the pool's other workers), give the compile's garbage back, and
 * say what it compiled. The workers differ only in what a task is.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper, type StatefulRecordMapper } from '../map/map-records.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { joinShare } from './array-share.ts';
import { summarizeRules } from './rule-coverage/rule-stats.ts';
import { withArrayShare } from './rules/shared-arrays.ts';
import { loadRuleset, type Ruleset } from './ruleset.ts';
import { SUMMARY_MAX_ERRORS, type RulesetSummary, type WorkerConfig } from './task.ts';

export interface CompiledWorker {
  readonly ruleset: Ruleset;
  readonly mapping: LogsourceMapping;
  readonly mapper: StatefulRecordMapper;
  /** What describe() answers at warm-up. */
  readonly summary: RulesetSummary;
  /** A memory-reducing full collection (a no-op where V8 does not expose gc). */
  readonly collectGarbage: () => void;
}

export async function compileWorker(cfg: WorkerConfig): Promise<CompiledWorker> {
  const mapping = loadLogsourceMapping({ overrideFiles: cfg.mappingFiles });
  const t0 = performance.now();
  // The first worker compiles and publishes its automata; the others compile after it, adopting them.
  const sharing = await joinShare(cfg.share);
  let compiledOk = false;
  let ruleset: Ruleset;
  try {
    ruleset = withArrayShare(sharing.share, () => loadRuleset({ paths: cfg.rulePaths, mapping, placeholders: cfg.placeholders, select: cfg.select }));
    compiledOk = true;
  } finally {
    sharing.done(compiledOk);
  }
  const compileMs = Math.round(performance.now() - t0);
  const errors = ruleset.problems.filter((p) => p.severity === 'error');
  const mapper = createRecordMapper({ mapping });
  const collectGarbage = reducingCollector();
  collectGarbage();
  // What this worker holds alone: heap plus external memory (shared memory is in neither).
  const heap = v8.getHeapStatistics();
  const summary: RulesetSummary = {
    loaded: ruleset.loaded,
    rejected: ruleset.rejected,
    skipped: ruleset.skipped,
    compileMs,
    errors: errors.slice(0, SUMMARY_MAX_ERRORS),
    errorCount: errors.length,
    correlations: ruleset.correlations,
    coverage: summarizeRules(ruleset.rules, mapping),
    workerHeapMb: Math.round((heap.used_heap_size + heap.external_memory) / 2 ** 20),
    sharedMib: Math.round(sharing.sharedBytes() / 2 ** 20),
  };
  return { ruleset, mapping, mapper, summary, collectGarbage };
}

/**
 * Compiling leaves ~120 MB of parse garbage in an old space sized for it (heap 177 MB, 57 MB live);
 * V8 would keep that size as the next GC's threshold, and keeps the freed pages committed until its
 * memory reducer runs, tens of seconds later. One memory-reducing ("last-resort") full collection
 * compacts the live rules and returns the rest: measured, two workers' RSS 454 → 283 MB at once
 * (a plain full collection: 454, falling to ~270 only after 20 s of idle).
 * `gc` is only reachable through --expose-gc, which V8 honours for contexts created after it is set.
 */
function reducingCollector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as ((opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void) | undefined;
  return typeof gc === 'function' ? () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : () => undefined;
}
