/**
 * Detections → ClickHouse, acknowledged on durability:
 *
 *   write(detections) ─ rows (JSONEachRow) ─▶ detection log (src/wal, group commit) ─▶ resolves
 *                                                  │
 *                        insert loop (behind) ─────┴─▶ INSERT <table>_events, INSERT <table> ─▶ ack
 *
 * write() resolves once its rows are fdatasync'd in the log, so a request is answered at disk
 * speed whatever ClickHouse is doing, and a SIGKILL or power loss after the answer loses nothing.
 * One insert loop drains the log in large batches (up to batchRows / batchBytes). Each batch is
 * pinned in the log before it is inserted and carries dedup tokens derived from its position, so
 * a batch retried after a failure or re-read after a crash is stored exactly once. Retryable
 * failures are retried with backoff for as long as it takes (the log holds the data; when it is
 * full, write() answers a retryable ERR_BACKPRESSURE). Rows ClickHouse refuses as bad data are
 * retried one request at a time and the refused ones go to `<log_dir>/dead-letter/`.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { DetectedEvent, Detection } from '../detect/detection.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import { DurableLog, type LogBatch } from '../wal/durable-log.ts';
import { writeDeadLetter } from './dead-letter.ts';
import { toDetectionRow, toEventRow, ValueLimit } from './detection-row.ts';
import { httpInsert, type RowInserter } from './client.ts';
import { RecentSet } from './recent-set.ts';
import { RowBuffer } from './row-buffer.ts';
import { backoffDelayMs, clickHouseErrorCode, isRetryableStoreError } from './retry-policy.ts';
import { assertIdentifier, eventsTable } from './schema.ts';

export interface DetectionWriterOptions {
  readonly client: ClickHouseClient;
  /** How rows are inserted (ClickHouseHandle.insertJsonRows); the client's generic exec by default. */
  readonly insertRows?: RowInserter;
  readonly database?: string;
  readonly table?: string;
  /** The detection log's directory (one per process). */
  readonly logDir: string;
  /** Bound on the log; when full, write() rejects with a retryable ERR_BACKPRESSURE. Default 1 GiB. */
  readonly maxLogBytes?: number;
  /** Most detection rows per insert. Default 50,000. */
  readonly batchRows?: number;
  /** Most log bytes per insert. Default 32 MiB. */
  readonly batchBytes?: number;
  /** Longer strings are cut (and the row flagged). Default 1 MiB. */
  readonly maxValueBytes?: number;
  /**
   * Store each triggering record's original body next to its Sigma event (default true). The two are most of
   * a stored event's bytes and carry the same values; without the body, attack-dense traffic cost serve 1–20 %
   * less CPU (docs/performance.md), and SigNoz keeps the original.
   */
  readonly storeBody?: boolean;
  /**
   * Least time from one insert's start to the next (ms). Default 1,000: ClickHouse writes a part per insert
   * and merges them behind, so a few large inserts a second cost it far less than many small ones; the
   * acknowledgement waits on the log, not on this. A full batch, a stored() caller or close() goes at once.
   */
  readonly insertIntervalMs?: number;
  /** Fingerprints remembered to drop a detection stored moments ago (a sender's retry of an answered request). Default 200,000. */
  readonly recentFingerprints?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxDelayMs?: number;
  readonly logger?: Logger;
}

/** One write in the log: a header line, the detection rows, the event rows (JSONEachRow). */
interface Header {
  /** Bytes of detection rows after the header line. */
  readonly d: number;
  readonly rows: number;
  readonly events: number;
  /** When it was written (ms), for the lag gauge. */
  readonly at: number;
}

export class DetectionWriter {
  readonly #insertRows: RowInserter;
  readonly #detections: string;
  readonly #events: string;
  readonly #log: DurableLog;
  readonly #batchRows: number;
  readonly #batchBytes: number;
  readonly #insertIntervalMs: number;
  /** Ends the wait between inserts early. */
  #hurry: (() => void) | undefined;
  readonly #maxValueBytes: number;
  readonly #storeBody: boolean;
  readonly #recent: RecentSet;
  /** Fingerprints being appended → whether that append succeeded. */
  readonly #pending = new Map<string, Promise<boolean>>();
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #logger: Logger | undefined;
  /** Log records written (recovered ones included) and inserted: stored() waits for the second to reach the first. */
  #written: number;
  #inserted = 0;
  #storedWaiters: { upTo: number; resolve: () => void }[] = [];
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;
  /** Last insert outcome, for readiness: false while ClickHouse refuses. */
  #insertOk = true;

  constructor(opts: DetectionWriterOptions) {
    this.#insertRows = opts.insertRows ?? httpInsert(opts.client);
    const database = assertIdentifier('storage.database', opts.database ?? 'otel_sigma');
    const table = assertIdentifier('storage.table', opts.table ?? 'detections');
    this.#detections = `${database}.${table}`;
    this.#events = `${database}.${eventsTable(table)}`;
    this.#batchRows = positive('batchRows', opts.batchRows ?? 50_000);
    this.#batchBytes = positive('batchBytes', opts.batchBytes ?? 32 * 1024 * 1024);
    this.#insertIntervalMs = Math.max(0, opts.insertIntervalMs ?? 1000);
    this.#maxValueBytes = positive('maxValueBytes', opts.maxValueBytes ?? 1024 * 1024);
    this.#storeBody = opts.storeBody ?? true;
    this.#recent = new RecentSet(positive('recentFingerprints', opts.recentFingerprints ?? 200_000));
    this.#backoff = { baseMs: positive('retryBaseMs', opts.retryBaseMs ?? 100), maxMs: positive('retryMaxDelayMs', opts.retryMaxDelayMs ?? 5000) };
    this.#logger = opts.logger;
    this.#log = new DurableLog({ dir: opts.logDir, name: 'detections', maxBytes: opts.maxLogBytes ?? 1024 ** 3, whenFull: 'refuse', logger: opts.logger });
    this.#written = this.#log.records;
    if (this.#written > 0) this.#logger?.info({ stage: 'store', batches: this.#written, bytes: this.#log.bytes }, 'Detections in the detection log will be inserted into ClickHouse.');
    this.#loop = this.#insertLoop();
  }

  /** Log records not yet inserted. */
  get backlog(): number {
    return this.#log.records;
  }

  /** False while ClickHouse refuses inserts or the log is nearly full: the service should not be called ready. */
  get healthy(): boolean {
    return this.#insertOk && this.#log.bytes < 0.9 * this.#log.maxBytes;
  }

  /**
   * Resolves once the detections are durable in the log, with how many this call logged (a detection
   * stored moments ago, or twice in `detections`, is not stored again and not counted). Rejects with a
   * retryable PipelineError when the log is full (ERR_BACKPRESSURE) or cannot be written,
   * ERR_SHUTTING_DOWN after close().
   */
  async write(detections: readonly Detection[]): Promise<number> {
    if (this.#closed) throw new PipelineError(ErrorCode.SHUTTING_DOWN, 'Detection writer is closed', true);
    // A detection another write is appending right now (the same record in two concurrent requests) is
    // left to that write; if that append fails, this write stores it after all (below).
    const others = new Map<Promise<boolean>, Detection[]>();
    const mine = detections.filter((d) => {
      const p = this.#pending.get(d.fingerprint);
      if (p === undefined) return true;
      const list = others.get(p) ?? [];
      list.push(d);
      others.set(p, list);
      return false;
    });
    const encoded = this.#encode(mine);
    let logged = 0;
    if (encoded !== undefined) {
      let settle!: (ok: boolean) => void;
      const appended = new Promise<boolean>((r) => { settle = r; });
      for (const f of encoded.fingerprints) this.#pending.set(f, appended);
      try {
        await this.#log.append(encoded.payload);
        // Remembered only once durable: a refused write's retry must not be taken for a duplicate.
        for (const f of encoded.fingerprints) this.#recent.add(f);
        this.#written++;
        this.#kick();
        if (this.#batchReady) this.#hurry?.();
        settle(true);
        logged = encoded.fingerprints.size;
      } catch (err) {
        settle(false);
        throw err;
      } finally {
        for (const f of encoded.fingerprints) if (this.#pending.get(f) === appended) this.#pending.delete(f);
      }
    }
    for (const [p, list] of others) if (!(await p)) logged += await this.write(list);
    return logged;
  }

  /** Resolves once everything written before the call is in ClickHouse (or dead-lettered). */
  stored(): Promise<void> {
    const upTo = this.#written;
    if (this.#inserted >= upTo) return Promise.resolve();
    this.#hurry?.();
    return new Promise((resolve) => this.#storedWaiters.push({ upTo, resolve }));
  }

  /**
   * Stops accepting writes and, within `graceMs`, inserts what the log holds. What is left stays
   * in the log for the next start.
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.#closed) return;
    const drained = this.stored();
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => { timer = setTimeout(r, Math.min(graceMs, 2 ** 31 - 1)); })]);
    clearTimeout(timer);
    this.#stopping = true;
    this.#kick();
    this.#hurry?.();
    await this.#loop;
    await this.#log.close();
  }

  #stopping = false;

  #encode(detections: readonly Detection[]): { payload: Buffer; fingerprints: Set<string> } | undefined {
    const limit = new ValueLimit(this.#maxValueBytes);
    const events = new Map<string, { e: DetectedEvent; at: number }>();
    const fingerprints = new Set<string>();
    // Header line, detection rows, event rows; the header (its line padded with spaces) is written last.
    const out = new RowBuffer(HEADER_RESERVE);
    let rows = 0;
    let duplicates = 0;
    for (const det of detections) {
      if (this.#recent.has(det.fingerprint) || fingerprints.has(det.fingerprint)) {
        duplicates++;
        continue;
      }
      fingerprints.add(det.fingerprint);
      out.push(toDetectionRow(det, limit));
      rows++;
      if (!events.has(det.event.id)) events.set(det.event.id, { e: det.event, at: det.detectedAtMs });
    }
    if (duplicates > 0) metrics.storeDuplicates.inc(duplicates);
    if (rows === 0) return undefined;
    const d = out.length - HEADER_RESERVE;
    for (const { e: ev, at } of events.values()) out.push(toEventRow(ev, at, limit, this.#storeBody));
    if (limit.cut > 0) metrics.storeTruncated.inc(limit.cut);
    const header: Header = { d, rows, events: events.size, at: Date.now() };
    out.header(JSON.stringify(header));
    return { payload: out.bytes(), fingerprints };
  }

  #kick(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async #insertLoop(): Promise<void> {
    while (!this.#stopping) {
      let batch: LogBatch | undefined;
      try {
        batch = await this.#log.peek(Number.MAX_SAFE_INTEGER, this.#batchBytes);
      } catch (err) {
        this.#logger?.error({ stage: 'store', err }, 'cannot read the detection log; retrying');
        await this.#sleep(1000);
        continue;
      }
      if (batch === undefined) {
        metrics.storeLagSeconds.set(0);
        await new Promise<void>((r) => {
          // close() sets #stopping before it kicks: a kick that came while the log was being read is not lost.
          if (this.#stopping) return r();
          this.#wake = r;
          void this.#log.whenReadable().then(r);
        });
        continue;
      }
      const parts = batch.payloads.map(decode);
      metrics.storeLagSeconds.set(Math.max(0, (Date.now() - (parts[0]?.header.at ?? Date.now())) / 1000));
      // A log batch may hold more rows than one insert should: take a prefix of whole records.
      let n = 0;
      let rows = 0;
      while (n < parts.length && (n === 0 || rows + parts[n]!.header.rows <= this.#batchRows)) rows += parts[n++]!.header.rows;
      batch = this.#log.prefix(batch, n);
      const started = performance.now();
      try {
        const ok = await this.#store(batch, parts.slice(0, n));
        if (!ok) continue; // stopping
        await this.#log.ack(batch);
      } catch (err) {
        // The log's cursor could not be written (disk full or failing, data directory gone). The batch stays
        // in the log and is inserted again with the same dedup token, so retrying keeps it exactly once; a
        // rejection here would otherwise end the loop, unhandled, and take the process down.
        metrics.errors.inc({ stage: 'store', code: ErrorCode.STORE });
        this.#logger?.error({ stage: 'store', err }, 'cannot record progress in the detection log; retrying');
        await this.#sleep(1000);
        continue;
      }
      this.#inserted += n;
      for (const w of this.#storedWaiters.filter((x) => x.upTo <= this.#inserted)) w.resolve();
      this.#storedWaiters = this.#storedWaiters.filter((x) => x.upTo > this.#inserted);
      await this.#pace(started);
    }
  }

  /** Inserts a pinned batch; false only when stopping interrupted the retries. */
  async #store(batch: LogBatch, parts: readonly Decoded[]): Promise<boolean> {
    await this.#log.pin(batch);
    const token = `${this.#log.id}:${batch.id}`;
    for (let attempt = 1; ; attempt++) {
      const failure = await this.#insertBoth(parts, token);
      if (failure === undefined) {
        this.#insertOk = true;
        return true;
      }
      if (!isRetryableStoreError(failure)) {
        this.#insertOk = true;
        await this.#storeOneByOne(parts, token);
        return true;
      }
      this.#insertOk = false;
      const delay = backoffDelayMs(attempt, this.#backoff);
      this.#logger?.warn({ stage: 'store', attempt, delayMs: delay, rows: rowsOf(parts), clickhouseCode: clickHouseErrorCode(failure), err: failure }, 'detection insert failed; retrying from the detection log');
      await this.#sleep(delay);
      if (this.#stopping) return false;
    }
  }

  /** ClickHouse refused the data: each write alone, so one bad request is dead-lettered alone. */
  async #storeOneByOne(parts: readonly Decoded[], token: string): Promise<void> {
    for (const [i, p] of parts.entries()) {
      for (let attempt = 1; ; attempt++) {
        const failure = await this.#insertBoth([p], `${token}:${i}`);
        if (failure === undefined) break;
        if (!isRetryableStoreError(failure)) {
          const file = await writeDeadLetter(this.#log.dir, `${token.replaceAll(':', '_')}_${i}`, [
            ...lines(p.detections).map((row) => ({ row, reason: `${this.#detections}: ${(failure as Error).message}` })),
            ...lines(p.events).map((row) => ({ row, reason: `${eventsTable(this.#detections)}: ${(failure as Error).message}` })),
          ]);
          metrics.storeDeadLetter.inc(p.header.rows);
          metrics.errors.inc({ stage: 'store', code: ErrorCode.STORE });
          this.#logger?.error({ stage: 'store', code: ErrorCode.STORE, rows: p.header.rows, file, err: failure }, 'ClickHouse refused detections as bad data; moved them to the dead-letter directory');
          break;
        }
        await this.#sleep(backoffDelayMs(attempt, this.#backoff));
        if (this.#stopping) return;
      }
    }
  }

  /** Events first: a detection row never points at an event that is not stored. */
  async #insertBoth(parts: readonly Decoded[], token: string): Promise<unknown> {
    const t0 = performance.now();
    try {
      await this.#insert(this.#events, parts.map((p) => p.events), `${token}:e`);
      await this.#insert(this.#detections, parts.map((p) => p.detections), `${token}:d`);
    } catch (err) {
      metrics.storeFailures.inc({ retryable: String(isRetryableStoreError(err)) });
      return err;
    }
    metrics.storeInsertSeconds.observe((performance.now() - t0) / 1000);
    metrics.storeRows.inc(rowsOf(parts));
    return undefined;
  }

  async #insert(target: string, chunks: Buffer[], token: string): Promise<void> {
    const body = chunks.filter((c) => c.length > 0);
    if (body.length === 0) return;
    // The rows are already JSONEachRow text: sent as they are, without a parse and re-serialize.
    await this.#insertRows(target, body, { insert_deduplication_token: token });
  }

  /** The log holds a whole insert's worth: no reason to wait for more. */
  get #batchReady(): boolean {
    return this.#log.bytes >= this.#batchBytes;
  }

  /** Waits out the rest of the insert interval, unless a batch is full or someone waits for the rows. */
  async #pace(started: number): Promise<void> {
    const ms = this.#insertIntervalMs - (performance.now() - started);
    if (ms <= 0 || this.#closed || this.#storedWaiters.length > 0 || this.#batchReady) return;
    await wait(ms, (end) => { this.#hurry = end; });
    this.#hurry = undefined;
  }

  /** A retry's back-off; any write (#kick) or close() ends it early. */
  #sleep(ms: number): Promise<void> {
    return wait(ms, (end) => { this.#wake = end; });
  }
}

/** A wait of `ms` that `hold` is handed the means to end early. */
function wait(ms: number, hold: (end: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    hold(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

interface Decoded {
  readonly header: Header;
  readonly detections: Buffer;
  readonly events: Buffer;
}

/** Room for the header line: `{"d":…,"rows":…,"events":…,"at":…}` is under 90 bytes. Older logs have it unpadded. */
const HEADER_RESERVE = 128;

function decode(payload: Buffer): Decoded {
  const nl = payload.indexOf(0x0a);
  const header = JSON.parse(payload.subarray(0, nl).toString('utf8')) as Header;
  return { header, detections: payload.subarray(nl + 1, nl + 1 + header.d), events: payload.subarray(nl + 1 + header.d) };
}

const rowsOf = (parts: readonly Decoded[]): number => parts.reduce((n, p) => n + p.header.rows, 0);

function lines(buf: Buffer): object[] {
  return buf.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as object);
}

function positive(key: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`DetectionWriter "${key}" is ${v}; expected a positive number`);
  return v;
}
