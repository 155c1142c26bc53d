/**
 * What every detection worker (the stream's, hunt's) does once at start-up: compile the configured
 * ruleset (sharing the automata with the pool's other workers), give the compile's garbage back, and
 * say what it compiled. The workers differ only in what a task is.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { createRecordMapper, type StatefulRecordMapper } from '../map/map-records.ts';
import { joinShare, type WorkerShare } from './array-share.ts';
import { heapBound } from './heap-bound.ts';
import { summarizeRules } from './rule-coverage/rule-stats.ts';
import { withArrayShare } from './rules/shared-arrays.ts';
import { loadRuleset, type Ruleset } from './ruleset.ts';
import { SUMMARY_MAX_ERRORS, type RulesetSummary, type WorkerConfig } from './task.ts';
import { ruleTextColumns, type RuleTextColumns } from './build-detection.ts';
import type { RuleInfo } from './types.ts';

export interface CompiledWorker {
  readonly detector: Ruleset['detector'];
  readonly correlations: Ruleset['correlations'];
  readonly mapper: StatefulRecordMapper;
  /**
   * What describe() answers at warm-up. The first answer carries the rules' text (from the worker that
   * sends it) and releases it here; the pool keeps it on the main thread. A later answer carries none.
   */
  readonly takeSummary: () => RulesetSummary;
  /** A memory-reducing full collection (a no-op where V8 does not expose gc). */
  readonly collectGarbage: () => void;
  /** Call after each task: a full collection once the heap has grown WORKER_HEAP_MARGIN_MB past its compiled size (heap-bound.ts). */
  readonly boundHeap: () => boolean;
}

export async function compileWorker(cfg: WorkerConfig): Promise<CompiledWorker> {
  const t0 = performance.now();
  // The first worker compiles and publishes its automata; the others compile after it, adopting them.
  const sharing = await joinShare(cfg.share);
  let compiledOk = false;
  let compiled: Compiled;
  try {
    compiled = compile(cfg, sharing);
    compiledOk = true;
  } finally {
    sharing.done(compiledOk);
  }
  const { detector, correlations } = compiled;
  const compileMs = Math.round(performance.now() - t0);
  const mapper = createRecordMapper({ mapping: cfg.mapping });
  let ruleText = compiled.ruleText;
  const { reducing: collectGarbage, full } = collectors();
  collectGarbage();
  // What this worker holds alone: heap plus external memory (shared memory is in neither), less the text it hands over.
  const heap = v8.getHeapStatistics();
  const summary: Omit<RulesetSummary, 'ruleText'> = {
    ...compiled.counts,
    compileMs,
    correlations,
    workerHeapMb: Math.round((heap.used_heap_size + heap.external_memory - (ruleText?.byteLength ?? 0)) / 2 ** 20),
    sharedMib: Math.round(sharing.sharedBytes() / 2 ** 20),
  };
  const takeSummary = (): RulesetSummary => {
    const out: RulesetSummary = { ...summary, ...(ruleText !== undefined && { ruleText }) };
    if (ruleText !== undefined) setImmediate(collectGarbage); // once the reply is posted, the text is garbage here
    ruleText = undefined;
    return out;
  };
  return { detector, correlations, mapper, takeSummary, collectGarbage, boundHeap: heapBound(heap.used_heap_size, full) };
}

interface Compiled {
  readonly detector: Ruleset['detector'];
  readonly correlations: Ruleset['correlations'];
  readonly counts: Pick<RulesetSummary, 'loaded' | 'rejected' | 'skipped' | 'errors' | 'errorCount' | 'coverage'>;
  readonly ruleText: Uint8Array | undefined;
}

/**
 * Compiles and keeps only what the worker needs: the rule list and the problems stay in this frame, so
 * they are garbage by the collection that follows (a value still in a live frame would not be).
 */
function compile(cfg: WorkerConfig, sharing: WorkerShare): Compiled {
  const ruleset = withArrayShare(sharing.share, () => loadRuleset({ paths: cfg.rulePaths, mapping: cfg.mapping, placeholders: cfg.placeholders, select: cfg.select }));
  const errors = ruleset.problems.filter((p) => p.severity === 'error');
  const coverage = summarizeRules(ruleset.rules, cfg.mapping); // reads the tags: before they move
  const text = moveRuleText(ruleset.rules);
  return {
    detector: ruleset.detector,
    correlations: ruleset.correlations,
    counts: { loaded: ruleset.loaded, rejected: ruleset.rejected, skipped: ruleset.skipped, errors: errors.slice(0, SUMMARY_MAX_ERRORS), errorCount: errors.length, coverage },
    // Every worker drops its text; one sends it: the publisher, or each that compiled alone (the pool keeps the first).
    // As UTF-8 bytes: external memory of a known size, which the worker's figure leaves out.
    ruleText: sharing.role !== 'adopter' ? new TextEncoder().encode(JSON.stringify(text)) : undefined,
  };
}

/**
 * Takes the text of every rule with a unique id (title, tags, description, references, false positives,
 * author; the file path is dropped) out of this worker's copy and returns it for the main thread, which
 * holds it once for all workers and fills it into their detections (DetectPool). Evaluating needs only
 * a rule's id, level, status and logsource; the text of the SigmaHQ ruleset is ~4 MB of heap in every
 * worker. A rule without an id, or sharing one, keeps its text here: its detections could not be told
 * apart by id.
 */
function moveRuleText(rules: readonly RuleInfo[]): Record<string, RuleTextColumns> {
  const seen = new Map<string, number>();
  for (const r of rules) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  const out: Record<string, RuleTextColumns> = {};
  for (const r of rules) {
    if (r.id === '' || seen.get(r.id) !== 1) continue;
    out[r.id] = ruleTextColumns(r);
    // The compiled rules share these objects: emptying them in place is what frees the text.
    Object.assign(r as Mutable<RuleInfo>, { title: '', tags: [], description: '', references: [], falsepositives: [], author: '', file: '' });
  }
  return out;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Compiling leaves ~120 MB of parse garbage in an old space sized for it (heap 177 MB, 57 MB live);
 * V8 would keep that size as the next GC's threshold, and keeps the freed pages committed until its
 * memory reducer runs, tens of seconds later. One memory-reducing ("last-resort") full collection
 * compacts the live rules and returns the rest: measured, two workers' RSS 454 → 283 MB at once
 * (a plain full collection: 454, falling to ~270 only after 20 s of idle).
 * `gc` is only reachable through --expose-gc, which V8 honours for contexts created after it is set.
 */
function collectors(): { reducing: () => void; full: () => void } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as ((opts?: { type: 'major'; execution: 'sync'; flavor?: 'last-resort' }) => void) | undefined;
  if (typeof gc !== 'function') return { reducing: () => undefined, full: () => undefined };
  return { reducing: () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }), full: () => gc({ type: 'major', execution: 'sync' }) };
}
