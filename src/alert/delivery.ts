/**
 * Drains an AlertQueue into Keep (or the log when no Keep URL is configured): the oldest batch is
 * peeked, coalesced by fingerprint, POSTed, and acked only after Keep's verdict, so an outage or
 * a crash leaves it in the queue. Retryable failures (network, timeout, 408, 429, 5xx) are
 * retried with backoff and jitter for as long as it takes; permanent ones (other 4xx) are logged
 * with Keep's reason, counted and acked.
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../errors.ts';
import { metrics } from '../telemetry/metrics.ts';
import { coalesce, type AlertQueue } from './alert-queue.ts';
import { postAlerts, type KeepClientOptions } from './keep-client.ts';
import type { AlertDto } from './keep-types.ts';
import { backoffMs, type RetryOptions } from './retry-policy.ts';

export type DeliveryOutcome = 'sent' | 'logged' | 'rejected' | 'superseded';

export interface DeliveryOptions {
  readonly queue: AlertQueue;
  /** Undefined: log each alert at info instead of POSTing. */
  readonly client: KeepClientOptions | undefined;
  readonly retry: RetryOptions;
  readonly maxBatch: number;
  readonly logger: Logger;
  /** Fires at the shutdown deadline: the current attempt ends and the batch stays queued. */
  readonly signal: AbortSignal;
  readonly count: (outcome: DeliveryOutcome | 'retries', n: number) => void;
}

export class Delivery {
  readonly #o: DeliveryOptions;
  #running: Promise<void> | undefined;
  /** kick() was called while a drain ran. */
  #again = false;
  #outage = false;

  constructor(opts: DeliveryOptions) {
    this.#o = opts;
  }

  /** Starts draining, or (already draining) has the drain run once more when it ends. */
  kick(): void {
    if (this.#o.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#again = false;
    let failed = false;
    this.#running = this.#pump()
      .catch((err: unknown) => {
        failed = true;
        this.#o.logger.error({ stage: 'alert', code: ErrorCode.INTERNAL, err }, 'Alert delivery failed; retrying in a second.');
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#o.signal.aborted) return;
        // Every append kicks: one that came while this drain ran (after its last peek found the log empty)
        // is drained now. Not "the queue is not empty": a count ahead of the log (an append in flight)
        // turned that into a loop at full CPU. After a failure (the queue's disk), a second later.
        if (failed) {
          if (this.#o.queue.length > 0) setTimeout(() => this.kick(), 1000).unref();
        } else if (this.#again) setImmediate(() => this.kick());
      });
  }

  /** Resolves when the queue is drained or the signal has fired. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #pump(): Promise<void> {
    const { queue, maxBatch, signal } = this.#o;
    for (let attempt = 1; !signal.aborted; ) {
      // Peeked again before every retry: updates appended during an outage coalesce into the
      // batch, so the backlog reaches Keep as one alert per fingerprint.
      const batch = await queue.peek(maxBatch);
      if (batch === undefined) return;
      const alerts = coalesce(batch.alerts);
      const r = await this.#attempt(alerts, attempt);
      if (r === 'aborted') return;
      if (r === 'done') {
        if (alerts.length < batch.alerts.length) this.#o.count('superseded', batch.alerts.length - alerts.length);
        await queue.ack(batch);
        attempt = 1;
        continue;
      }
      this.#o.count('retries', 1);
      try {
        await sleep(r, undefined, { signal });
      } catch {
        return;
      }
      attempt++;
    }
  }

  /** One POST: 'done' once Keep has given its verdict, else the delay before the next try. */
  async #attempt(batch: readonly AlertDto[], attempt: number): Promise<'done' | 'aborted' | number> {
    const { client, logger: log, signal } = this.#o;
    if (!client) {
      for (const a of batch) log.info({ stage: 'alert', alert: a }, 'Sigma alert.');
      this.#o.count('logged', batch.length);
      return 'done';
    }
    const r = await postAlerts(client, batch, signal);
    if (r.kind === 'ok') {
      if (this.#outage) log.info({ stage: 'alert' }, 'Keep reachable again.');
      this.#outage = false;
      this.#o.count('sent', batch.length);
      return 'done';
    }
    if (r.kind === 'permanent') {
      const code = r.status === 401 || r.status === 403 ? ErrorCode.UNAUTHENTICATED : ErrorCode.ALERT;
      log.error({ stage: 'alert', code, status: r.status, reason: r.reason, alerts: batch.length }, 'Keep rejected alerts; not retrying.');
      metrics.errors.inc({ stage: 'alert', code });
      this.#o.count('rejected', batch.length);
      return 'done';
    }
    if (r.kind === 'aborted') return 'aborted';
    const delay = r.retryAfterMs ?? backoffMs(attempt, this.#o.retry);
    if (!this.#outage) {
      // Logged once per outage, not per attempt: retries are counted instead.
      this.#outage = true;
      log.warn({ stage: 'alert', code: ErrorCode.ALERT, reason: r.reason, retryInMs: delay, queued: this.#o.queue.length }, 'Keep unavailable; alerts wait in the queue and are retried with backoff.');
    }
    return delay;
  }
}
