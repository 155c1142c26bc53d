/**
 * Batches detections into `INSERT INTO <db>.<table> FORMAT JSONEachRow`. `write()` resolves only
 * once its rows are stored, so a request is acknowledged only after its detections are safe.
 *
 * Flow: write() → bounded buffer → one batch (≥ batchRows rows, or whatever is buffered after
 * flushIntervalMs) → insert, retried with backoff + jitter while the failure is retryable and
 * maxRetryMs has not passed. One insert is in flight at a time: while ClickHouse is slow or down the
 * buffer fills and write() pushes back with ERR_BACKPRESSURE instead of growing without bound.
 *
 * Every attempt of a batch carries the same insert_deduplication_token (a hash of the batch's
 * fingerprints), so an insert that reached the table but whose reply was lost is not stored twice.
 *
 * With `spoolDir`, a ClickHouse outage does not fail writes: once a batch has been retried for
 * spoolAfterMs it is appended (fsync'd) to an on-disk spool and its writes resolve — the data is
 * durable. While the spool holds anything, new batches are appended behind it (arrival order), and
 * a replayer drains it into ClickHouse with dedup tokens that survive a crash (spool.ts, spool-sink.ts).
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Detection } from '../detect/detection.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import { toInsertRow, type DetectionRow } from './detection-row.ts';
import { backoffDelayMs, clickHouseErrorCode, isRetryableStoreError } from './retry-policy.ts';
import { assertIdentifier } from './schema.ts';
import { SpoolSink } from './spool-sink.ts';

export interface DetectionWriterOptions {
  readonly client: ClickHouseClient;
  readonly database?: string;
  readonly table?: string;
  /** Insert as soon as this many rows are buffered. Default 5000. */
  readonly batchRows?: number;
  /** Insert whatever is buffered after this long. Default 200 ms. */
  readonly flushIntervalMs?: number;
  /** Rows buffered or being inserted before write() rejects with ERR_BACKPRESSURE (an empty buffer accepts any write). Default 100000. */
  readonly maxBufferedRows?: number;
  /** Give up on a batch (ERR_STORE, retryable) once retrying it has taken this long. Default 30 s. */
  readonly maxRetryMs?: number;
  /** First retry delay (before jitter). Default 100 ms. */
  readonly retryBaseMs?: number;
  /** Longest single retry delay (before jitter). Default 5 s. */
  readonly retryMaxDelayMs?: number;
  /** Failed attempts are logged (once per attempt, never per row). */
  readonly logger?: Logger;
  /** Directory of the on-disk spool used while ClickHouse is unreachable; absent = no spool (writes fail after maxRetryMs). */
  readonly spoolDir?: string;
  /** Bound on the spool's files; when full, writes reject with a retryable ERR_BACKPRESSURE. Default 1 GiB. */
  readonly spoolMaxBytes?: number;
  /** With a spool: retry a batch in memory this long before spooling it (replaces maxRetryMs). Default 3 s. */
  readonly spoolAfterMs?: number;
  /** With a spool: size at which a new segment file is started. Default spoolMaxBytes/16, 64 KiB–64 MiB. */
  readonly spoolSegmentBytes?: number;
}

interface PendingWrite {
  readonly rows: readonly Detection[];
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const STORE_QUEUE = { queue: 'store' } as const;

export class DetectionWriter {
  readonly #client: ClickHouseClient;
  readonly #target: string;
  readonly #batchRows: number;
  readonly #flushIntervalMs: number;
  readonly #maxBufferedRows: number;
  readonly #maxRetryMs: number;
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #logger: Logger | undefined;
  readonly #sink: SpoolSink | undefined;

  #queue: PendingWrite[] = [];
  #queuedRows = 0;
  #inFlight: PendingWrite[] = [];
  #inFlightRows = 0;
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  #forced = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(opts: DetectionWriterOptions) {
    this.#client = opts.client;
    const database = assertIdentifier('storage.database', opts.database ?? 'otel_sigma');
    const table = assertIdentifier('storage.table', opts.table ?? 'detections');
    this.#target = `${database}.${table}`;
    this.#batchRows = positive('batchRows', opts.batchRows ?? 5000);
    this.#flushIntervalMs = positive('flushIntervalMs', opts.flushIntervalMs ?? 200);
    this.#maxBufferedRows = positive('maxBufferedRows', opts.maxBufferedRows ?? 100_000);
    this.#maxRetryMs = positive('maxRetryMs', opts.maxRetryMs ?? 30_000, true);
    this.#backoff = { baseMs: positive('retryBaseMs', opts.retryBaseMs ?? 100), maxMs: positive('retryMaxDelayMs', opts.retryMaxDelayMs ?? 5000) };
    this.#logger = opts.logger;
    if (opts.spoolDir !== undefined) {
      this.#maxRetryMs = positive('spoolAfterMs', opts.spoolAfterMs ?? 3000, true);
      this.#sink = new SpoolSink({
        dir: opts.spoolDir,
        maxBytes: positive('spoolMaxBytes', opts.spoolMaxBytes ?? 1024 ** 3),
        segmentBytes: opts.spoolSegmentBytes,
        insert: (rows, token) => this.#insertOnce(rows, token),
        backoff: this.#backoff,
        maxRows: this.#batchRows,
        logger: opts.logger,
      });
    }
  }

  /** Batches in the on-disk spool waiting for ClickHouse (0 without a spool). */
  get spooledBatches(): number {
    return this.#sink?.spool.batches ?? 0;
  }

  /** Resolves once the spool has been replayed into ClickHouse (at once without a spool, or after close()). */
  spoolDrained(): Promise<void> {
    return this.#sink?.idle() ?? Promise.resolve();
  }

  /** Rows accepted but not yet stored (buffered + being inserted). */
  get pendingRows(): number {
    return this.#queuedRows + this.#inFlightRows;
  }

  /**
   * Resolves once every row is stored. Rejects with ERR_BACKPRESSURE (retryable) when the buffer
   * cannot take the rows, ERR_SHUTTING_DOWN after close(), ERR_STORE when the insert failed
   * (retryable unless ClickHouse refused the data or statement).
   */
  write(rows: readonly Detection[]): Promise<void> {
    if (this.#closed) return Promise.reject(new PipelineError(ErrorCode.SHUTTING_DOWN, 'Detection writer is closed', true));
    if (rows.length === 0) return Promise.resolve();
    // An empty buffer takes any write, so one request larger than the buffer (its size is bounded by
    // the receiver's request limit) is not refused forever.
    if (this.pendingRows > 0 && this.pendingRows + rows.length > this.#maxBufferedRows) {
      metrics.errors.inc({ stage: 'store', code: ErrorCode.BACKPRESSURE });
      return Promise.reject(
        new PipelineError(ErrorCode.BACKPRESSURE, `Detection store buffer is full (${this.pendingRows} of ${this.#maxBufferedRows} rows pending)`, true, { retryAfterSeconds: 1 }),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#queue.push({ rows, done: promise, resolve, reject });
    this.#queuedRows += rows.length;
    this.#updateGauge();
    if (this.#queuedRows >= this.#batchRows) this.#kick();
    else this.#armTimer();
    return promise;
  }

  /** Inserts everything buffered now; resolves when those writes have settled (it never rejects: their own promises carry errors). */
  async flush(): Promise<void> {
    const waiting = [...this.#inFlight, ...this.#queue].map((w) => w.done);
    if (waiting.length === 0) return;
    this.#forced = true;
    this.#kick();
    await Promise.allSettled(waiting);
  }

  /**
   * Stops accepting writes and flushes what is buffered into ClickHouse or, failing that, the spool.
   * Idempotent; may take up to maxRetryMs (spoolAfterMs) while ClickHouse is down. Replay stops after
   * the insert in flight; the rest of the spool waits on disk for the next start.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = this.flush().then(() => this.#sink?.close()).finally(() => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    });
    return this.#closing;
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#draining || this.#queue.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#forced = true;
      this.#kick();
    }, this.#flushIntervalMs);
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#draining) return; // the running loop picks the new rows up
    this.#draining = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && (this.#forced || this.#queuedRows >= this.#batchRows)) {
        const batch = this.#takeBatch();
        await this.#store(batch);
        this.#inFlight = [];
        this.#inFlightRows = 0;
        this.#updateGauge();
      }
    } finally {
      this.#draining = false;
      if (this.#queue.length === 0) this.#forced = false;
      else if (this.#forced || this.#queuedRows >= this.#batchRows) this.#kick();
      else this.#armTimer();
    }
  }

  /** Whole writes, oldest first, until batchRows is reached (a single larger write is its own batch). */
  #takeBatch(): PendingWrite[] {
    let rows = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || rows + this.#queue[n]!.rows.length <= this.#batchRows)) {
      rows += this.#queue[n]!.rows.length;
      n++;
    }
    const batch = this.#queue.slice(0, n);
    this.#queue = this.#queue.slice(n);
    this.#queuedRows -= rows;
    this.#inFlight = batch;
    this.#inFlightRows = rows;
    return batch;
  }

  /** Never throws: every write in the batch is resolved or rejected. */
  async #store(batch: readonly PendingWrite[]): Promise<void> {
    const rows: DetectionRow[] = [];
    const hash = createHash('sha256');
    try {
      for (const w of batch) {
        for (const d of w.rows) {
          rows.push(toInsertRow(d));
          hash.update(d.fingerprint).update('\n');
        }
      }
    } catch (cause) {
      // A malformed Detection (a bug upstream) must not take the writer down with it.
      settle(batch, new PipelineError(ErrorCode.STORE, `Cannot convert detections to rows: ${errorMessage(cause)}`, false, { cause }));
      return;
    }
    const token = hash.digest('hex');
    // Behind spooled batches: join the queue on disk (put() registers the append in this same tick).
    if (this.#sink?.active) {
      settle(batch, await this.#sink.put(rows, token, undefined));
      return;
    }
    const outcome = await this.#insertWithRetry(rows, token);
    if (outcome === undefined) {
      settle(batch);
      return;
    }
    if (outcome.retryable && this.#sink) {
      settle(batch, await this.#sink.put(rows, token, outcome));
      return;
    }
    if (!outcome.retryable && batch.length > 1) {
      // ClickHouse refused the data: insert each write alone so one bad request fails alone.
      for (const w of batch) await this.#store([w]);
      return;
    }
    settle(batch, outcome);
  }

  /** Resolves undefined once stored, or the PipelineError to reject the batch's writes with. */
  async #insertWithRetry(rows: DetectionRow[], token: string): Promise<PipelineError | undefined> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const t0 = performance.now();
      try {
        await this.#insertOnce(rows, token);
        metrics.storeInsertSeconds.observe((performance.now() - t0) / 1000);
        metrics.storeRows.inc(rows.length);
        return undefined;
      } catch (cause) {
        const retryable = isRetryableStoreError(cause);
        metrics.storeFailures.inc({ retryable: String(retryable) });
        const code = clickHouseErrorCode(cause);
        const what = `Insert of ${rows.length} detections into ${this.#target} failed${code ? ` (ClickHouse code ${code})` : ''}: ${errorMessage(cause)}`;
        const delay = backoffDelayMs(attempt, this.#backoff);
        const elapsed = performance.now() - started;
        if (!retryable || elapsed + delay > this.#maxRetryMs) {
          if (retryable && this.#sink) return new PipelineError(ErrorCode.STORE, what, true, { cause }); // spooled next, not an error yet
          metrics.errors.inc({ stage: 'store', code: ErrorCode.STORE });
          this.#logger?.error({ stage: 'store', code: ErrorCode.STORE, attempts: attempt, rows: rows.length, retryable, err: cause }, 'giving up on detection insert');
          const suffix = retryable ? ` (gave up after ${attempt} attempts in ${Math.round(elapsed)} ms)` : '';
          return new PipelineError(ErrorCode.STORE, what + suffix, retryable, { cause, ...(retryable ? { retryAfterSeconds: 5 } : {}) });
        }
        this.#logger?.warn({ stage: 'store', attempt, delayMs: delay, rows: rows.length, clickhouseCode: code }, 'detection insert failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #insertOnce(values: readonly object[], token: string): Promise<void> {
    await this.#client.insert({
      table: this.#target,
      values,
      format: 'JSONEachRow',
      // The table has one partition per day of event_time, and one batch of a replayed or backfilled log
      // can span months: by default ClickHouse refuses a block touching over 100 partitions (code 252),
      // which would be retried and spooled forever. Such an insert is slower (one part per day) but stored.
      clickhouse_settings: { insert_deduplication_token: token, throw_on_max_partitions_per_insert_block: 0 },
    });
  }

  #updateGauge(): void {
    metrics.queueDepth.set(STORE_QUEUE, this.pendingRows);
  }
}

function settle(batch: readonly PendingWrite[], err?: Error): void {
  for (const w of batch) {
    if (err) w.reject(err);
    else w.resolve();
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function positive(key: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`DetectionWriter "${key}" is ${v}; expected a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return v;
}
