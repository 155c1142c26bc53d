/**
 * The DetectionWriter's way around a ClickHouse outage: a Spool plus the SpoolReplayer draining it.
 * While `active` (a batch is spooled and not yet replayed), every new batch must be put here too, or
 * it would overtake older spooled ones.
 */
import { ErrorCode, isPipelineError, PipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { DetectionRow } from './detection-row.ts';
import type { BackoffOptions } from './retry-policy.ts';
import { Spool } from './spool.ts';
import { SpoolReplayer, type InsertFn } from './spool-replayer.ts';

export interface SpoolSinkOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes?: number | undefined;
  readonly insert: InsertFn;
  readonly backoff: BackoffOptions;
  readonly maxRows: number;
  readonly logger?: Logger | undefined;
}

export class SpoolSink {
  readonly spool: Spool;
  readonly #replayer: SpoolReplayer;
  readonly #logger: Logger | undefined;

  /** Opens (and recovers) the spool; a non-empty one starts replaying at once. */
  constructor(opts: SpoolSinkOptions) {
    this.#logger = opts.logger;
    this.spool = new Spool({ dir: opts.dir, maxBytes: opts.maxBytes, ...(opts.segmentBytes !== undefined ? { segmentBytes: opts.segmentBytes } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
    this.#replayer = new SpoolReplayer({ spool: this.spool, insert: opts.insert, backoff: opts.backoff, maxRows: opts.maxRows, logger: opts.logger });
    if (!this.spool.empty) {
      this.#logger?.info({ stage: 'store', dir: this.spool.dir, batches: this.spool.batches, bytes: this.spool.bytes, cutBytes: this.spool.truncatedBytes }, 'replaying detections spooled by an earlier run');
      this.#replayer.start();
    }
  }

  get active(): boolean {
    return this.#replayer.active;
  }

  /**
   * Appends a batch (durably) and makes sure the replayer runs. Resolves undefined once the batch is
   * on disk, or the error its writes must be rejected with (ERR_BACKPRESSURE when the spool is full).
   * Call it in the same tick as checking `active`: the append is registered synchronously.
   */
  async put(rows: readonly DetectionRow[], token: string, cause: PipelineError | undefined): Promise<PipelineError | undefined> {
    if (!this.#replayer.active && cause) {
      this.#logger?.warn({ stage: 'store', dir: this.spool.dir, err: cause }, 'ClickHouse unreachable; spooling detections to disk until it is back');
    }
    let body = '';
    for (const r of rows) body += `${JSON.stringify(r)}\n`;
    try {
      // After a failed insert (cause) the rows may be in the table under this token already.
      await this.spool.append(token, rows.length, body, cause !== undefined);
    } catch (err) {
      const e = isPipelineError(err) ? err : new PipelineError(ErrorCode.STORE, `Cannot spool detections: ${(err as Error).message}`, true, { cause: err, retryAfterSeconds: 5 });
      metrics.errors.inc({ stage: 'store', code: e.code });
      return e;
    }
    this.#replayer.start();
    return undefined;
  }

  /** Resolves once the spool has been replayed (or the sink closed). */
  idle(): Promise<void> {
    return this.#replayer.idle();
  }

  /** Stops replaying after the insert in flight; what is left stays on disk for the next start. */
  async close(): Promise<void> {
    await this.#replayer.stop();
    await this.spool.close();
  }
}
