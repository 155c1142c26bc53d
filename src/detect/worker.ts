/**
 * Detection worker (piscina). Compiles the ruleset once at start-up (and says what it compiled through
 * `describe`), then runs each task (run-task.ts): raw request bytes → decode → map → evaluate →
 * detection rows. Never throws across the thread boundary.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { workerData } from 'node:worker_threads';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper } from '../map/map-records.ts';
import { loadRuleset } from './ruleset.ts';
import { joinShare } from './array-share.ts';
import { withArrayShare, type PublishingShare } from './rules/shared-arrays.ts';
import { correlationPlan } from './correlation-plan.ts';
import { summarizeRules } from './rule-coverage/rule-stats.ts';
import { createTaskRunner } from './run-task.ts';
import { SUMMARY_MAX_ERRORS, type DetectResult, type DetectTask, type RulesetSummary, type WorkerConfig } from './task.ts';

const cfg = workerData as WorkerConfig;
const mapping = loadLogsourceMapping({ overrideFiles: cfg.mappingFiles });
const t0 = performance.now();
// The first worker compiles and publishes its automata; the others compile after it, adopting them.
const sharing = await joinShare(cfg.share);
let compiledOk = false;
const ruleset = (() => {
  try {
    const rs = withArrayShare(sharing.share, () => loadRuleset({ paths: cfg.rulePaths, mapping, placeholders: cfg.placeholders, select: cfg.select }));
    compiledOk = true;
    return rs;
  } finally {
    sharing.done(compiledOk);
  }
})();
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
let collectGarbage: () => void = () => undefined;
collectCompileGarbage();

/** What this worker holds once compiled: its heap plus the automata's typed arrays (external memory). */
const heap = v8.getHeapStatistics();
const sharedBytes = sharing.role === 'publisher' ? (sharing.share as PublishingShare).published.reduce((n, a) => n + a.byteLength, 0) : sharing.adoptedBytes();
// Shared memory is not in the heap statistics: heap + external is what this worker holds alone.
const workerHeapMb = Math.round((heap.used_heap_size + heap.external_memory) / 2 ** 20);
const sharedMib = Math.round(sharedBytes / 2 ** 20);

/** Called once per worker at warm-up (piscina named task). */
export function describe(): RulesetSummary {
  return { ...summary, workerHeapMb, sharedMib };
}

const run = createTaskRunner({ detector: ruleset.detector, mapper, maxRequestBytes: cfg.maxRequestBytes, correlation: correlationPlan(ruleset.correlations), ...(cfg.limits ? { limits: cfg.limits } : {}) });

/**
 * After a task this large (decoded size, compressed bodies counted at 4×) the heap is sized for it and V8
 * keeps it so for a long while: an attack run saw the process at 684 → 1,691 MiB, flat for 40 s, after one
 * 2.5-million-record request. Giving it back costs a memory-reducing collection (~0.1-0.2 s), next to the
 * seconds such a request takes.
 */
const GIVE_BACK_BYTES = 32 * 1024 * 1024;

export default function detect(task: DetectTask): DetectResult {
  const size = task.body.byteLength * (task.encoding === 'identity' ? 1 : 4);
  const result = run(task);
  releaseBody(task.body);
  if (size >= GIVE_BACK_BYTES) collectGarbage();
  return result;
}

/**
 * Compiling leaves ~120 MB of parse garbage in an old space sized for it (heap 177 MB, 57 MB live);
 * V8 would keep that size as the next GC's threshold, and keeps the freed pages committed until its
 * memory reducer runs, tens of seconds later. One memory-reducing ("last-resort") full collection now
 * compacts the live rules and returns the rest: measured, two workers' RSS 454 → 283 MB at once
 * (a plain full collection: 454, falling to ~270 only after 20 s of idle).
 * `gc` is only reachable through --expose-gc, which V8 honours for contexts created after it is set.
 */
function collectCompileGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  collectGarbage = reducingCollector();
  collectGarbage();
}

function reducingCollector(): () => void {
  const gc = vm.runInNewContext('gc') as ((opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void) | undefined;
  return typeof gc === 'function' ? () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : () => undefined;
}

/**
 * The request bytes were transferred to (or copied for) this worker alone. Their backing store is
 * freed only when the buffer's wrapper is collected, which after a task spanning several scavenges is
 * the next full GC: ~45 MB of dead request bodies per worker under load. Detaching frees it now.
 */
function releaseBody(body: Uint8Array): void {
  const ab = body.buffer;
  if (ab instanceof ArrayBuffer && !ab.detached && !ab.resizable) ab.transfer(0);
}
