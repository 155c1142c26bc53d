/**
 * Drains the spool into ClickHouse in order, one insert at a time: consecutive spooled batches are
 * grouped up to maxRows, with a dedup token that is the batch's own or derived from the group's
 * (re-formed identically after a crash, see spool.ts), so a group whose insert landed before a crash
 * but whose ack did not is dropped by ClickHouse instead of stored twice.
 *
 * - Retryable failures (ClickHouse still down): the same batch again after a backoff, forever — the
 *   spool bound, not a deadline, limits how much waits.
 * - Bad data (a parse/type error): the batch is bisected, each half inserted with a token derived
 *   from the batch's, until every refused row is alone; those rows go to dead-letter/ and the rest is
 *   stored. The derived tokens are deterministic, so re-doing a split after a crash stores nothing twice.
 * - Other permanent errors (unknown table, access denied, …) are configuration, not data: every
 *   batch would fail, so the spool waits (with backoff, logged) for an operator instead of emptying
 *   itself into dead-letter/.
 */
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import { writeDeadLetter, type DeadRow } from './dead-letter.ts';
import { backoffDelayMs, clickHouseErrorCode, isRetryableStoreError, type BackoffOptions } from './retry-policy.ts';
import type { Spool, SpooledBatch } from './spool.ts';
import { parseRows } from './spool-record.ts';

/** ClickHouse codes that blame the inserted data itself, so other rows of the batch may be fine. */
const BAD_DATA_CODES: ReadonlySet<string> = new Set(['6', '25', '26', '27', '38', '41', '43', '44', '53', '69', '70', '72', '117']);

export function isBadDataError(err: unknown): boolean {
  const code = clickHouseErrorCode(err);
  return code !== undefined && !isRetryableStoreError(err) && BAD_DATA_CODES.has(code);
}

export type InsertFn = (rows: object[], token: string) => Promise<void>;

export interface SpoolReplayerOptions {
  readonly spool: Spool;
  /** One insert attempt; throws the client's error. */
  readonly insert: InsertFn;
  readonly backoff: BackoffOptions;
  /** Consecutive spooled batches are replayed together, up to this many rows per insert. */
  readonly maxRows: number;
  readonly logger?: Logger | undefined;
}

export class SpoolReplayer {
  readonly #spool: Spool;
  readonly #insert: InsertFn;
  readonly #backoff: BackoffOptions;
  readonly #maxRows: number;
  readonly #logger: Logger | undefined;
  #running: Promise<void> | undefined;
  #active = false;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(opts: SpoolReplayerOptions) {
    this.#spool = opts.spool;
    this.#insert = opts.insert;
    this.#backoff = opts.backoff;
    this.#maxRows = opts.maxRows;
    this.#logger = opts.logger;
  }

  /** True from start() until the spool is found empty: new batches must go to the spool meanwhile, to keep order. */
  get active(): boolean {
    return this.#active;
  }

  /** Starts draining unless already draining. */
  start(): void {
    if (this.#active || this.#stopping) return;
    this.#active = true;
    const run: Promise<void> = (this.#running ?? Promise.resolve()).then(() => this.#run()).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
  }

  /** Resolves once the spool has been drained (or the replayer stopped). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops after the insert in flight (an unacked batch stays in the spool for the next start). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
  }

  async #run(): Promise<void> {
    const t0 = performance.now();
    let replayed = 0;
    let rows = 0;
    let failures = 0;
    while (!this.#stopping) {
      try {
        const batch = await this.#spool.peek(this.#maxRows);
        if (batch === undefined) {
          if (this.#spool.empty) {
            this.#active = false; // same tick as the check: no append can slip in between
            break;
          }
          continue;
        }
        if (!(await this.#replay(batch))) break;
        await this.#spool.ack(batch);
        metrics.spoolReplayed.inc(batch.records);
        replayed += batch.records;
        rows += batch.rows;
        failures = 0;
      } catch (err) {
        // The spool itself failed (disk I/O): keep the batch, try again later.
        this.#logger?.error({ stage: 'store', code: ErrorCode.STORE, err }, 'detection spool replay failed; retrying');
        await this.#sleep(backoffDelayMs(++failures, this.#backoff));
      }
    }
    if (replayed > 0) {
      this.#logger?.info({ stage: 'store', batches: replayed, rows, seconds: Math.round(performance.now() - t0) / 1000, left: this.#spool.batches }, 'replayed spooled detections into ClickHouse');
    }
  }

  /** True once the batch is stored and/or dead-lettered; false when stopped first. */
  async #replay(b: SpooledBatch): Promise<boolean> {
    const dead: DeadRow[] = [];
    let rows: object[];
    try {
      rows = parseRows(b.body);
    } catch (err) {
      // Checksummed, so this is not a torn write; keep the text for a human rather than block.
      dead.push({ row: { spool_body: b.body.toString('utf8') }, reason: `unparsable spooled batch: ${(err as Error).message}` });
      rows = [];
    }
    if (rows.length > 0 && !(await this.#insertRange(rows, 0, rows.length, b.token, dead))) return false;
    if (dead.length > 0) {
      const file = await writeDeadLetter(this.#spool.dir, `${String(b.seq).padStart(16, '0')}-${b.start}`, dead);
      metrics.storeDeadLetter.inc(dead.length);
      metrics.errors.inc({ stage: 'store', code: ErrorCode.STORE });
      this.#logger?.error({ stage: 'store', code: ErrorCode.STORE, rows: dead.length, of: b.rows, file, reason: dead[0]?.reason }, 'ClickHouse refused spooled detections as bad data; moved them to dead-letter');
    }
    return true;
  }

  async #insertRange(rows: object[], lo: number, hi: number, token: string, dead: DeadRow[]): Promise<boolean> {
    const whole = lo === 0 && hi === rows.length;
    const tok = whole ? token : `${token}:${lo}-${hi}`;
    for (let attempt = 1; !this.#stopping; attempt++) {
      const t0 = performance.now();
      try {
        await this.#insert(whole ? rows : rows.slice(lo, hi), tok);
        metrics.storeInsertSeconds.observe((performance.now() - t0) / 1000);
        metrics.storeRows.inc(hi - lo);
        return true;
      } catch (err) {
        const retryable = isRetryableStoreError(err);
        metrics.storeFailures.inc({ retryable: String(retryable) });
        if (isBadDataError(err)) {
          if (hi - lo === 1) {
            dead.push({ row: rows[lo]!, reason: `ClickHouse code ${clickHouseErrorCode(err)}: ${(err as Error).message}` });
            return true;
          }
          const mid = lo + Math.floor((hi - lo) / 2);
          return (await this.#insertRange(rows, lo, mid, token, dead)) && (await this.#insertRange(rows, mid, hi, token, dead));
        }
        if (attempt === 1 || attempt % 20 === 0) {
          const level = retryable ? 'warn' : 'error';
          this.#logger?.[level]({ stage: 'store', attempt, rows: hi - lo, retryable, clickhouseCode: clickHouseErrorCode(err), err }, 'replay of spooled detections failed; retrying');
        }
        await this.#sleep(backoffDelayMs(attempt, this.#backoff));
      }
    }
    return false;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
