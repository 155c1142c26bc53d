/**
 * Detections → Keep alerts, off the hot path. `send()` filters by level, folds repeats into an
 * open dedup group, and buffers the group; one fastq worker drains the buffer in batches
 * (a list of AlertDto per POST) and retries with backoff on outages. Without a Keep URL the same
 * path ends in one info log line per alert instead of a POST.
 *
 *   send(d) ─ level ─ dedup fold ─▶ #enqueue ─▶ buffer (≤ maxQueue, drop oldest) ─▶ worker ─▶ Keep | log
 *
 * `#enqueue` is the single admission point: a per-minute ceiling with an overflow digest
 * belongs there (divert groups past the ceiling into one digest group per minute).
 */
import fastq from 'fastq';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Detection } from '../detect/detection.ts';
import { SIGMA_LEVELS, type SigmaLevel } from '../detect/types.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { metrics } from '../telemetry/metrics.ts';
import { DetectionFields } from './detection-fields.ts';
import { DedupWindow, groupAlert, newGroup, type AlertGroup } from './dedup-window.ts';
import { postAlerts, type DeliveryResult, type KeepClientOptions } from './keep-client.ts';
import { alertFingerprint, toAlertDto, validateUrlTemplate, type AlertPayloadOptions } from './keep-payload.ts';
import type { AlertDto } from './keep-types.ts';
import { backoffMs, DEFAULT_RETRY, type RetryOptions } from './retry-policy.ts';

export interface AlertSenderOptions {
  /** Keep base URL (`https://keep.example`); without it alerts are logged. */
  readonly keepUrl?: string;
  readonly apiKey?: string;
  /** Detections below this level are not alerted (they are still stored). */
  readonly minLevel: SigmaLevel;
  readonly environment?: string;
  readonly urlTemplate?: string;
  readonly groupBy?: readonly string[];
  /** Alert groups waiting to be sent; when full the oldest is dropped. */
  readonly maxQueue: number;
  /** Per-request timeout. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Alerts per POST; default 100. */
  readonly maxBatch?: number;
  /** Repeats of a fingerprint within this window update one alert; default 300 000, 0 = off. */
  readonly dedupWindowMs?: number;
  /** How often grown counts are re-sent; default 30 000. */
  readonly dedupFlushMs?: number;
  /** Fingerprints remembered at once; default 10 000. */
  readonly maxTracked?: number;
  readonly retry?: Partial<RetryOptions>;
}

export interface AlertSenderStats {
  readonly queued: number;
  readonly sent: number;
  readonly logged: number;
  readonly dropped: number;
  readonly rejected: number;
  readonly failed: number;
  readonly deduplicated: number;
  readonly retries: number;
}

type Outcome = 'sent' | 'logged' | 'dropped' | 'rejected' | 'failed' | 'deduplicated';

const rankOf = (l: SigmaLevel): number => SIGMA_LEVELS.indexOf(l);

export class AlertSender {
  readonly #payload: AlertPayloadOptions;
  readonly #client: KeepClientOptions | undefined;
  readonly #log: Logger;
  readonly #minRank: number;
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #retry: RetryOptions;
  readonly #dedup: DedupWindow | undefined;
  readonly #buffer: AlertGroup[] = [];
  readonly #queue: fastq.queueAsPromised<null, void>;
  readonly #abort = new AbortController();
  readonly #sweepTimer: NodeJS.Timeout | undefined;
  /** The current delivery cycle, from kick until the buffer is empty. */
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #outage = false;
  readonly #counts: Record<Outcome | 'retries', number> = { sent: 0, logged: 0, dropped: 0, rejected: 0, failed: 0, deduplicated: 0, retries: 0 };

  constructor(opts: AlertSenderOptions) {
    if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 1) throw configError(`"alert.max_queue" is ${opts.maxQueue}; expected an integer ≥ 1`);
    if (!(opts.timeoutMs > 0)) throw configError(`"alert.timeout_ms" is ${opts.timeoutMs}; expected a number > 0`);
    if (opts.urlTemplate) validateUrlTemplate(opts.urlTemplate);
    if (opts.keepUrl !== undefined && !/^https?:\/\/[^/\s]+/i.test(opts.keepUrl)) {
      throw configError(`"alert.keep_url" is ${JSON.stringify(opts.keepUrl)}; expected an http(s) URL such as https://keep.example`);
    }
    this.#payload = { environment: opts.environment, urlTemplate: opts.urlTemplate, groupBy: opts.groupBy };
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#client = opts.keepUrl
      ? { keepUrl: opts.keepUrl, apiKey: opts.apiKey, timeoutMs: opts.timeoutMs, maxRetryAfterMs: this.#retry.maxRetryAfterMs }
      : undefined;
    this.#log = opts.logger;
    this.#minRank = rankOf(opts.minLevel);
    this.#maxQueue = opts.maxQueue;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 100);
    const windowMs = opts.dedupWindowMs ?? 300_000;
    if (windowMs > 0) {
      this.#dedup = new DedupWindow(windowMs, opts.maxTracked ?? 10_000);
      this.#sweepTimer = setInterval(() => this.#sweep(), Math.max(10, opts.dedupFlushMs ?? 30_000));
      this.#sweepTimer.unref();
    }
    this.#queue = fastq.promise<unknown, null, void>(async () => this.#drain(), 1);
  }

  /** Non-blocking: never waits on Keep and never throws for delivery problems. */
  send(d: Detection): void {
    if (rankOf(d.ruleLevel) < this.#minRank) return;
    if (this.#closing !== undefined) {
      this.#count('dropped', 1);
      return;
    }
    const now = Date.now();
    if (this.#dedup) {
      const fp = alertFingerprint(new DetectionFields(d), this.#payload.groupBy);
      if (this.#dedup.fold(fp, d.detectedAtMs, now) !== undefined) {
        this.#count('deduplicated', 1);
        return;
      }
    }
    const g = newGroup(toAlertDto(d, this.#payload), d.detectedAtMs, now);
    this.#dedup?.track(g);
    this.#enqueue(g);
  }

  stats(): AlertSenderStats {
    return { queued: this.#buffer.length, ...this.#counts };
  }

  /**
   * Sends what it can within `deadlineMs` (including grown dedup counts), then gives up on the
   * rest. Safe to call more than once; later calls return the first call's promise.
   */
  close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#close(deadlineMs);
    return this.#closing;
  }

  async #close(deadlineMs: number): Promise<void> {
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweep();
    const deadline = setTimeout(() => this.#abort.abort(), Math.max(0, deadlineMs));
    try {
      this.#kick();
      // Nothing enqueues once closing, and the deadline's abort ends a cycle promptly.
      while (this.#running) await this.#running;
    } finally {
      clearTimeout(deadline);
    }
    const left = this.#buffer.splice(0);
    for (const g of left) g.queued = false;
    if (left.length > 0) {
      this.#count('dropped', left.length);
      this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, alerts: left.length }, 'Alerts not delivered before the shutdown deadline.');
    }
    this.#gauge();
  }

  #sweep(): void {
    if (!this.#dedup) return;
    for (const g of this.#dedup.sweep(Date.now())) this.#enqueue(g);
  }

  #enqueue(g: AlertGroup): void {
    if (this.#buffer.length >= this.#maxQueue) {
      const oldest = this.#buffer.shift();
      if (oldest) {
        oldest.queued = false;
        // Counted as dropped once; only new repeats bring the group (with its full count) back.
        oldest.sentCount = oldest.count;
      }
      this.#count('dropped', 1);
    }
    g.queued = true;
    this.#buffer.push(g);
    this.#gauge();
    this.#kick();
  }

  #kick(): void {
    if (this.#running || this.#buffer.length === 0) return;
    // Deferred a turn so a burst of detections from one request leaves as one batch.
    this.#running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#queue.push(null))
      .catch((err: unknown) => {
        this.#log.error({ stage: 'alert', code: ErrorCode.INTERNAL, err }, 'Alert worker failed.');
      })
      .finally(() => {
        this.#running = undefined;
        // A failed cycle may leave alerts behind; a new one picks them up.
        if (this.#buffer.length > 0 && !this.#abort.signal.aborted) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    while (this.#buffer.length > 0 && !this.#abort.signal.aborted) {
      const groups = this.#buffer.splice(0, this.#maxBatch);
      const batch: AlertDto[] = [];
      for (const g of groups) {
        g.queued = false;
        g.sentCount = g.count;
        batch.push(groupAlert(g));
      }
      this.#gauge();
      await this.#deliver(batch);
    }
  }

  async #deliver(batch: readonly AlertDto[]): Promise<void> {
    if (!this.#client) {
      for (const a of batch) this.#log.info({ stage: 'alert', alert: a }, 'Sigma alert.');
      this.#count('logged', batch.length);
      return;
    }
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const r: DeliveryResult = await postAlerts(this.#client, batch, this.#abort.signal);
      if (r.kind === 'ok') {
        if (this.#outage) this.#log.info({ stage: 'alert' }, 'Keep reachable again.');
        this.#outage = false;
        this.#count('sent', batch.length);
        return;
      }
      if (r.kind === 'permanent') {
        const code = r.status === 401 || r.status === 403 ? ErrorCode.UNAUTHENTICATED : ErrorCode.ALERT;
        this.#log.error({ stage: 'alert', code, status: r.status, reason: r.reason, alerts: batch.length }, 'Keep rejected alerts; not retrying.');
        metrics.errors.inc({ stage: 'alert', code });
        this.#count('rejected', batch.length);
        return;
      }
      if (r.kind === 'aborted') return this.#giveUp(batch, r.reason);
      const delay = r.retryAfterMs ?? backoffMs(attempt, this.#retry);
      if (Date.now() + delay - started > this.#retry.maxElapsedMs) return this.#giveUp(batch, r.reason);
      if (!this.#outage) {
        // Logged once per outage, not per attempt: retries are counted instead.
        this.#outage = true;
        this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, reason: r.reason, retryInMs: delay }, 'Keep unavailable; retrying with backoff.');
      }
      this.#counts.retries++;
      try {
        await sleep(delay, undefined, { signal: this.#abort.signal });
      } catch {
        return this.#giveUp(batch, 'shutdown deadline');
      }
    }
  }

  #giveUp(batch: readonly AlertDto[], reason: string): void {
    this.#log.error({ stage: 'alert', code: ErrorCode.ALERT, reason, alerts: batch.length }, 'Giving up on alerts after retries.');
    metrics.errors.inc({ stage: 'alert', code: ErrorCode.ALERT });
    this.#count('failed', batch.length);
  }

  #count(outcome: Outcome, n: number): void {
    this.#counts[outcome] += n;
    metrics.alertsSent.inc({ outcome }, n);
  }

  #gauge(): void {
    metrics.queueDepth.set({ queue: 'alert' }, this.#buffer.length);
  }
}

const configError = (msg: string): PipelineError => new PipelineError(ErrorCode.CONFIG, msg, false);
