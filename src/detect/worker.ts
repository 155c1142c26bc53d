/**
 * Detection worker (piscina). Compiles the ruleset once at start-up (worker-compile.ts; it says what it
 * compiled through `describe`), then runs each task (run-task.ts): raw request bytes → decode → map →
 * evaluate → detection rows. Never throws across the thread boundary.
 */
import { workerData } from 'node:worker_threads';
import { correlationPlan } from './correlation-plan.ts';
import { createTaskRunner } from './run-task.ts';
import type { DetectResult, DetectTask, RulesetSummary, WorkerConfig } from './task.ts';
import { compileWorker } from './worker-compile.ts';

const cfg = workerData as WorkerConfig;
const { detector, correlations, mapper, takeSummary, collectGarbage, boundHeap } = await compileWorker(cfg);

/** Called once per worker at warm-up (piscina named task). */
export function describe(): RulesetSummary {
  return takeSummary();
}

const run = createTaskRunner({ detector, mapper, maxRequestBytes: cfg.maxRequestBytes, correlation: correlationPlan(correlations), ...(cfg.limits ? { limits: cfg.limits } : {}), keepBody: cfg.keepBody ?? true });

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
  else boundHeap();
  return result;
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
