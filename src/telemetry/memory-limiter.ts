/**
 * Admission control that keeps memory under `receiver.memory_limit_mib`, in the spirit of the collector's
 * memory_limiter. Two checks, both answered with a retryable status so the data waits in the sender's queue:
 *  - request bytes in flight (received, not yet answered) may not exceed a quarter of the ceiling: this is
 *    the memory that grows with load, and it is bounded exactly;
 *  - while RSS (sampled on a timer; reading it per request costs a syscall) is above the soft limit, 80 % of
 *    the ceiling, only one request at a time is admitted.
 * One request is always admitted when none is in flight: memory the process keeps without load (V8 heaps,
 * the embedded ClickHouse's caches) must slow the service down, never stop it for good.
 */
import v8 from 'node:v8';
import { metrics } from './metrics.ts';

/** The main thread's heap this close to V8's limit is past saving: V8 would abort, and inside libchdb's
 * signal handlers an abort left the process hanging, alive to a supervisor, answering nothing. */
export const HEAP_EXHAUSTED = 0.95;

const SOFT_LIMIT = 0.8;
const INFLIGHT_SHARE = 0.25;
/** Compressed bodies inflate several times while decoded; count them at this factor. */
const COMPRESSED_FACTOR = 4;

export interface MemoryLimiter {
  /** Returns a release function when the request may proceed, undefined when it must be refused. */
  admit(bytes: number, compressed: boolean): (() => void) | undefined;
  readonly inflightBytes: number;
  stop(): void;
}

/**
 * `onHeapExhausted` is called (once) when the main thread's heap passes HEAP_EXHAUSTED of its limit: the
 * service exits non-zero then, so a supervisor restarts it (acknowledged data is in the durable logs).
 */
export function startMemoryLimiter(limitBytes: number, intervalMs = 100, onHeapExhausted?: (usedBytes: number, limitBytes: number) => void, heapStats: () => { used_heap_size: number; heap_size_limit: number } = v8.getHeapStatistics): MemoryLimiter {
  let exhausted = false;
  let rss = process.memoryUsage.rss();
  let over = false;
  let inflight = 0;
  let inflightRequests = 0;
  const sample = (): void => {
    try {
      rss = process.memoryUsage.rss();
    } catch (err) {
      // Reading RSS opens /proc/self/stat: with every file descriptor taken (EMFILE) it throws. Keep the last
      // reading and count it; a timer callback that throws would take the whole process down.
      metrics.errors.inc({ stage: 'receive', code: (err as NodeJS.ErrnoException).code ?? 'ERR_INTERNAL' });
      return;
    }
    if (onHeapExhausted !== undefined && !exhausted) {
      const h = heapStats();
      if (h.used_heap_size > h.heap_size_limit * HEAP_EXHAUSTED) {
        exhausted = true;
        onHeapExhausted(h.used_heap_size, h.heap_size_limit);
      }
    }
    // Hysteresis: tighten above the soft limit, relax below 75 %, so the state does not flap per sample.
    over = over ? rss > limitBytes * 0.75 : rss > limitBytes * SOFT_LIMIT;
    metrics.memoryRss.set(rss);
  };
  const timer = limitBytes > 0 || onHeapExhausted !== undefined ? setInterval(sample, intervalMs) : undefined;
  timer?.unref();
  return {
    admit(bytes, compressed) {
      const cost = compressed ? bytes * COMPRESSED_FACTOR : bytes;
      if (limitBytes > 0 && inflightRequests > 0 && (over || inflight + cost > limitBytes * INFLIGHT_SHARE)) {
        metrics.memoryRefusals.inc();
        return undefined;
      }
      inflight += cost;
      inflightRequests++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inflight -= cost;
        inflightRequests--;
      };
    },
    get inflightBytes() {
      return inflight;
    },
    stop: () => clearInterval(timer),
  };
}
