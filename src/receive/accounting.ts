/**
 * Request accounting shared by both receivers: every request ends in exactly one
 * `requests_total{transport,outcome}` increment; failures also count in `errors_total{stage="receive",code}`
 * and produce at most one warning per interval (senders retry, so a bad client would otherwise flood the log).
 */
import type { ExportOutcome } from '../decode/export-response.ts';
import { ErrorCode, isPipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { Transport } from './types.ts';

/** accepted: full success; partial: 200 with rejected records; refused: permanent error; retry: retryable error. */
export type RequestOutcome = 'accepted' | 'partial' | 'refused' | 'retry';

export const WARN_INTERVAL_MS = 10_000;

export interface Accounting {
  success(o: ExportOutcome): void;
  /** Counts and (rate-limited) logs a failed request; returns the stable error code. */
  failure(err: unknown): string;
}

export function createAccounting(transport: Transport, logger: Logger, intervalMs = WARN_INTERVAL_MS): Accounting {
  let lastWarn = -Infinity;
  let suppressed = 0;
  return {
    success(o) {
      metrics.requestsTotal.inc({ transport, outcome: o.rejectedLogRecords > 0 ? 'partial' : 'accepted' });
    },
    failure(err) {
      const code = isPipelineError(err) ? err.code : ErrorCode.INTERNAL;
      const retryable = isPipelineError(err) && err.retryable;
      metrics.requestsTotal.inc({ transport, outcome: retryable ? 'retry' : 'refused' });
      metrics.errors.inc({ stage: 'receive', code });
      const now = performance.now();
      if (now - lastWarn < intervalMs) {
        suppressed++;
        return code;
      }
      lastWarn = now;
      const message = err instanceof Error ? err.message : String(err);
      logger.warn({ stage: 'receive', transport, code, retryable, suppressed }, `Export request failed: ${message}`);
      suppressed = 0;
      return code;
    },
  };
}

/** Retry-After / RetryInfo delay for a retryable error, in whole seconds (at least 1). */
export function retryAfterSeconds(err: unknown): number {
  const s = isPipelineError(err) ? err.retryAfterSeconds : undefined;
  return s !== undefined && Number.isFinite(s) && s > 0 ? Math.ceil(s) : 1;
}
