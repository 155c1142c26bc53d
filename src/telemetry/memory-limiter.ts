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
import { metrics } from './metrics.ts';

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

export function startMemoryLimiter(limitBytes: number, intervalMs = 100): MemoryLimiter {
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
    // Hysteresis: tighten above the soft limit, relax below 75 %, so the state does not flap per sample.
    over = over ? rss > limitBytes * 0.75 : rss > limitBytes * SOFT_LIMIT;
    metrics.memoryRss.set(rss);
  };
  const timer = limitBytes > 0 ? setInterval(sample, intervalMs) : undefined;
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
