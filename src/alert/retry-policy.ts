/**
 * Keep delivery retry policy. Network errors, timeouts, 408, 429 and 5xx are worth retrying
 * (Keep or its proxy is down or busy); any other 4xx means the request itself is wrong or the
 * key is not accepted, and sending it again cannot help. Retryable failures are retried until
 * Keep answers or the sender shuts down: the alerts wait in the (bounded) queue meanwhile.
 */

export interface RetryOptions {
  /** First backoff; doubles each attempt. */
  readonly baseMs: number;
  /** Ceiling of one computed backoff. */
  readonly maxMs: number;
  /** Ceiling on a server's Retry-After, so a bogus header cannot park the sender for hours. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { baseMs: 500, maxMs: 30_000, maxRetryAfterMs: 300_000 };

export type StatusClass = 'ok' | 'retry' | 'permanent';

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so a fleet of
 * senders that failed together does not come back together, yet no retry is immediate.
 * `attempt` counts from 1.
 */
export function backoffMs(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number, maxMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const v = header.trim();
  if (v === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    // HTTP-dates end in GMT; Date.parse alone would also read "-1" or "1.5" as dates.
    if (!/^[A-Za-z]{3},? .+ GMT$/.test(v)) return undefined;
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), maxMs);
}
