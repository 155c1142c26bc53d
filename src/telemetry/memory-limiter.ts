/**
 * Admission control that keeps memory under `receiver.memory_limit_mib`, in the spirit of the collector's
 * memory_limiter, answered with a retryable status so the data waits in the sender's queue. What is
 * admitted is the requests' decoded size in flight (received, not yet answered; a compressed body counted
 * at COMPRESSED_FACTOR × its wire size): the memory that grows with load, known exactly and given back the
 * moment a request is answered. It may reach a quarter of the ceiling while RSS is below the soft limit
 * (80 %); above it, that budget shrinks in proportion to the headroom left, to nothing at the ceiling, where
 * one request at a time is admitted.
 * RSS only scales the budget, it does not gate admission by itself: it is a slow, sticky signal (V8 and
 * malloc keep pages after a large request; after one 5 MB request RSS stayed above the old release point
 * for two minutes and 14 of 16 small concurrent requests got 429), while small requests cost little.
 * One request is always admitted when none is in flight: memory the process keeps without load (V8 heaps,
 * the embedded ClickHouse's caches) must slow the service down, never stop it for good. And small requests
 * (a collector's batches) have a reserve of their own, 1 % of the ceiling, that the budget's shrinking does
 * not touch: a hostile 50 MB request held alone at the ceiling used to refuse every other sender for as
 * long as it ran, while what a small request adds is small.
 */
import v8 from 'node:v8';
import { metrics } from './metrics.ts';

/** The main thread's heap this close to V8's limit is past saving: V8 would abort, and inside libchdb's
 * signal handlers an abort left the process hanging, alive to a supervisor, answering nothing. */
export const HEAP_EXHAUSTED = 0.95;

const SOFT_LIMIT = 0.8;
const INFLIGHT_SHARE = 0.25;
/** The small requests' reserve (share of the ceiling), and what counts as small: a 1/16 of it (1.3 MB at 2 GiB). */
const RESERVE_SHARE = 0.01;
const SMALL_SHARE = RESERVE_SHARE / 16;
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
export function startMemoryLimiter(
  limitBytes: number,
  intervalMs = 100,
  onHeapExhausted?: (usedBytes: number, limitBytes: number) => void,
  heapStats: () => { used_heap_size: number; heap_size_limit: number } = v8.getHeapStatistics,
  readRss: () => number = () => process.memoryUsage.rss(),
): MemoryLimiter {
  let exhausted = false;
  /** The share of the in-flight budget RSS leaves: 1 up to the soft limit, 0 at the ceiling. */
  const headroomAt = (rss: number): number => (limitBytes > 0 ? Math.min(1, Math.max(0, (limitBytes - rss) / (limitBytes * (1 - SOFT_LIMIT)))) : 1);
  let rss = readRss();
  let headroom = headroomAt(rss);
  let inflight = 0;
  let inflightRequests = 0;
  let reserved = 0;
  const sample = (): void => {
    try {
      rss = readRss();
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
    headroom = headroomAt(rss);
    metrics.memoryRss.set(rss);
  };
  const timer = limitBytes > 0 || onHeapExhausted !== undefined ? setInterval(sample, intervalMs) : undefined;
  timer?.unref();
  return {
    admit(bytes, compressed) {
      const cost = compressed ? bytes * COMPRESSED_FACTOR : bytes;
      let fromReserve = false;
      if (limitBytes > 0 && inflightRequests > 0 && inflight + cost > limitBytes * INFLIGHT_SHARE * headroom) {
        fromReserve = cost <= limitBytes * SMALL_SHARE && reserved + cost <= limitBytes * RESERVE_SHARE;
        if (!fromReserve) {
          metrics.memoryRefusals.inc();
          return undefined;
        }
      }
      inflight += cost;
      inflightRequests++;
      if (fromReserve) reserved += cost;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inflight -= cost;
        inflightRequests--;
        if (fromReserve) reserved -= cost;
      };
    },
    get inflightBytes() {
      return inflight;
    },
    stop: () => clearInterval(timer),
  };
}
