/**
 * How much garbage a detection worker may keep. Left to V8, a worker's heap grows to up to 4× its live
 * size (its compiled ruleset) before a full collection: under load each worker climbed from ~80 MB to
 * ~190 MB (bench, 2026-11-22), which across the default one worker per core would take a 16-core host
 * past its memory limit. Each worker is therefore bounded on its own: after a task, once its heap holds
 * more than WORKER_HEAP_MARGIN_MB beyond what it held right after compiling, it runs a full collection.
 *
 * Not a process-wide `--heap-growing-percent` (what this did before): that bound the main thread too,
 * whose detections live until their log fsync, and it then ran a full collection for every 3–9 MB of
 * old-space growth ("GC in old space requested", 29 in 6 s of attack-dense load, measured with
 * --trace-gc). The main thread grows as V8 decides; the workers, as below.
 */
import v8 from 'node:v8';

export const WORKER_HEAP_MARGIN_MB = 32;

/**
 * After each task: a full collection once the heap is `marginMb` past what the last collection left
 * (at first `baselineBytes`, the compiled ruleset). False: none needed. Measured from what the last
 * collection left, so a worker whose live set grows (its caches) is not collected after every task.
 */
export function heapBound(baselineBytes: number, collect: () => void, marginMb = WORKER_HEAP_MARGIN_MB): () => boolean {
  const margin = marginMb * 2 ** 20;
  let limit = baselineBytes + margin;
  return () => {
    if (v8.getHeapStatistics().used_heap_size <= limit) return false;
    collect();
    limit = Math.max(baselineBytes, v8.getHeapStatistics().used_heap_size) + margin;
    return true;
  };
}
