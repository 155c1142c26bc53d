/**
 * Append-only, crash-safe on-disk spool of detection batches, for while ClickHouse is unreachable.
 *
 * Layout under `dir`: segment files `<16-digit seq>.spool` of length-prefixed, checksummed records
 * (spool-record.ts), and `cursor.json` (`{"seq","offset","pending"?}`: everything before offset is
 * replayed). An append is written and fdatasync'd before it resolves, so a resolved append survives
 * SIGKILL and power loss. On open, each segment is scanned and a torn or corrupt tail (a crash
 * mid-append; that append never resolved) is cut off. Fully replayed segments are deleted.
 *
 * Replay reads consecutive records of one segment as one group (one insert instead of many). A
 * record that was already inserted under its own token before it was spooled (`tried`) is always a
 * group of its own, replayed with that token. Any other group's token is derived from its records'
 * tokens, so it must be re-formed identically after a crash: a group of several records is written to the cursor (`pending` = its end) before it is
 * handed out, and recovery re-forms exactly that group. A group that reached ClickHouse but was never
 * acked is thus re-inserted with the same token, and ClickHouse drops it.
 *
 * Bounded: when the segment files would exceed `maxBytes`, append rejects with a retryable
 * ERR_BACKPRESSURE and the caller (ultimately the collector) keeps the data.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import { decodeGroup, LOCK, lockSpool, recoverSegments, segName, syncDir, writeCursor, type Segment } from './spool-files.ts';
import { encodeRecord } from './spool-record.ts';

export interface SpoolOptions {
  readonly dir: string;
  /** Upper bound on the bytes of all segment files. */
  readonly maxBytes: number;
  /** Start a new segment file once the current one reaches this size. Default maxBytes/16, 64 KiB–64 MiB. */
  readonly segmentBytes?: number;
  readonly logger?: Logger;
}

/** The oldest records not yet replayed, as peek() returns them; pass it back to ack(). */
export interface SpooledBatch {
  /** The record's own token, or (several records) one derived from theirs. */
  readonly token: string;
  readonly rows: number;
  /** The rows as JSONEachRow text. */
  readonly body: Buffer;
  readonly records: number;
  readonly seq: number;
  readonly start: number;
  readonly end: number;
}

export class Spool {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #logger: Logger | undefined;
  readonly #segments: Segment[];
  /** Replay position in the head segment: byte offset, and records before it. */
  #offset = 0;
  #headDone = 0;
  /** End of a group handed out but not acked (recorded in the cursor): the next peek must re-form it. */
  #pendingEnd: number | undefined;
  #bytes = 0;
  #nextSeq = 1;
  /** Open for appends: always the last segment. */
  #fh: fsp.FileHandle | undefined;
  #readFh: { seq: number; fh: fsp.FileHandle } | undefined;
  #queuedAppends = 0;
  /** Appends, reads and acks run one at a time, in call order. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Bytes cut off at open because a record was torn or corrupt. */
  readonly truncatedBytes: number = 0;

  /** Synchronous: recovers what a previous process left, once, at start-up. */
  constructor(opts: SpoolOptions) {
    this.dir = path.resolve(opts.dir);
    if (!Number.isFinite(opts.maxBytes) || opts.maxBytes <= 0) throw new Error(`Spool "maxBytes" is ${opts.maxBytes}; expected a positive number`);
    this.#maxBytes = opts.maxBytes;
    this.#segmentBytes = opts.segmentBytes ?? Math.min(64 * 1024 * 1024, Math.max(64 * 1024, Math.floor(opts.maxBytes / 16)));
    this.#logger = opts.logger;
    let r: ReturnType<typeof recoverSegments>;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      lockSpool(this.dir);
      r = recoverSegments(this.dir, this.#logger);
    } catch (cause) {
      if (cause instanceof PipelineError) throw cause;
      throw new PipelineError(ErrorCode.STORE, `Cannot open the detection spool ${this.dir}: ${(cause as Error).message}`, false, { cause });
    }
    this.#segments = r.segments;
    this.#offset = r.offset;
    this.#headDone = r.headDone;
    this.#pendingEnd = r.pendingEnd;
    this.#nextSeq = r.nextSeq;
    this.#bytes = r.segments.reduce((n, s) => n + s.bytes, 0);
    this.truncatedBytes = r.cutBytes;
    this.#updateGauges();
  }

  /** Bytes of the segment files (replayed records count until their segment is deleted). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Batches (records) appended and not yet acked. */
  get batches(): number {
    return this.#segments.reduce((n, s) => n + s.ends.length, 0) - this.#headDone;
  }

  /** Nothing to replay and no append under way. */
  get empty(): boolean {
    return this.#queuedAppends === 0 && this.batches === 0;
  }

  /**
   * Resolves once the batch is on disk (fdatasync'd). Rejects with retryable ERR_BACKPRESSURE when
   * the spool is full or the disk is, ERR_STORE (retryable) on any other I/O error. `tried`: the batch
   * was already inserted with this token (the insert failed, but may have reached the table), so it
   * is replayed alone, with this token.
   */
  append(token: string, rows: number, body: string, tried = false): Promise<void> {
    this.#queuedAppends++;
    return this.#serial(() => this.#append(encodeRecord(token, rows, body, tried), rows, tried)).finally(() => {
      this.#queuedAppends--;
    });
  }

  /**
   * The oldest unacked records of the head segment, as many as fit in maxRows and maxBytes (at least
   * one). Until ack(), every call returns the same group.
   */
  peek(maxRows = 1, maxBytes = 64 * 1024 * 1024): Promise<SpooledBatch | undefined> {
    return this.#serial(() => this.#peek(maxRows, maxBytes));
  }

  /** Marks a batch from peek() as replayed; deletes its segment once every record in it is. */
  ack(batch: SpooledBatch): Promise<void> {
    return this.#serial(() => this.#ack(batch));
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      await this.#closeRead();
      await this.#fh?.close();
      this.#fh = undefined;
      await fsp.rm(path.join(this.dir, LOCK), { force: true });
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #append(rec: Buffer, rows: number, tried: boolean): Promise<void> {
    if (this.#bytes + rec.length > this.#maxBytes) {
      throw new PipelineError(
        ErrorCode.BACKPRESSURE,
        `Detection spool ${this.dir} is full (${this.#bytes} of ${this.#maxBytes} bytes, ${this.batches} batches waiting for ClickHouse)`,
        true,
        { retryAfterSeconds: 5 },
      );
    }
    let tail = this.#segments.at(-1);
    if (tail === undefined || this.#fh === undefined || tail.bytes >= this.#segmentBytes) tail = await this.#roll();
    const fh = this.#fh!;
    try {
      await fh.write(rec, 0, rec.length, tail.bytes);
      await fh.datasync();
    } catch (cause) {
      // Never leave a partial record in front of later ones: cut it off, and append to a new file from now on.
      await fh.truncate(tail.bytes).catch(() => undefined);
      await fh.close().catch(() => undefined);
      this.#fh = undefined;
      const code = (cause as NodeJS.ErrnoException).code;
      const full = code === 'ENOSPC' || code === 'EDQUOT';
      throw new PipelineError(full ? ErrorCode.BACKPRESSURE : ErrorCode.STORE, `Cannot append to the detection spool ${this.dir}: ${(cause as Error).message}`, true, {
        cause,
        retryAfterSeconds: 5,
      });
    }
    tail.bytes += rec.length;
    tail.ends.push(tail.bytes);
    tail.rows.push(rows);
    tail.tried.push(tried);
    this.#bytes += rec.length;
    metrics.spoolAppended.inc();
    this.#updateGauges();
  }

  async #roll(): Promise<Segment> {
    await this.#fh?.close();
    this.#fh = undefined;
    const seg: Segment = { seq: this.#nextSeq++, bytes: 0, ends: [], rows: [], tried: [] };
    this.#fh = await fsp.open(path.join(this.dir, segName(seg.seq)), 'w');
    await syncDir(this.dir); // the new file's directory entry must survive a power loss too
    this.#segments.push(seg);
    return seg;
  }

  async #peek(maxRows: number, maxBytes: number): Promise<SpooledBatch | undefined> {
    for (;;) {
      const head = this.#segments[0];
      if (head === undefined || this.#headDone >= head.ends.length) return undefined;
      let n = this.#headDone;
      let rows = 0;
      if (this.#pendingEnd !== undefined) {
        while (n < head.ends.length && head.ends[n]! <= this.#pendingEnd) rows += head.rows[n++]!;
      } else {
        const alone = head.tried[n]!;
        do rows += head.rows[n++]!;
        while (!alone && n < head.ends.length && !head.tried[n]! && rows + head.rows[n]! <= maxRows && head.ends[n]! - this.#offset <= maxBytes);
      }
      const end = head.ends[n - 1]!;
      const data = Buffer.alloc(end - this.#offset);
      await (await this.#reader(head.seq)).read(data, 0, data.length, this.#offset);
      const group = decodeGroup(data);
      if (group === undefined) {
        // Recovery checked every record, so this is damage after start-up: skip the unreadable records.
        this.#logger?.error({ stage: 'store', code: ErrorCode.STORE, segment: segName(head.seq), offset: this.#offset }, 'corrupt records in detection spool; skipping them');
        this.#headDone = n;
        await this.#advance(head, end);
        continue;
      }
      const records = n - this.#headDone;
      if (records > 1 && this.#pendingEnd === undefined) {
        await writeCursor(this.dir, { seq: head.seq, offset: this.#offset, pending: end });
        this.#pendingEnd = end;
      }
      return { ...group, rows, records, seq: head.seq, start: this.#offset, end };
    }
  }

  async #ack(b: SpooledBatch): Promise<void> {
    const head = this.#segments[0];
    if (head === undefined || head.seq !== b.seq || b.start !== this.#offset) return; // already acked
    this.#headDone += b.records;
    await this.#advance(head, b.end);
  }

  async #advance(head: Segment, to: number): Promise<void> {
    this.#offset = to;
    this.#pendingEnd = undefined;
    await writeCursor(this.dir, { seq: head.seq, offset: to });
    if (to < head.bytes) {
      this.#updateGauges();
      return;
    }
    // Fully replayed: the cursor already says so, so deleting the file is only tidying.
    if (this.#segments.length === 1) {
      await this.#fh?.close();
      this.#fh = undefined;
    }
    await this.#closeRead();
    this.#segments.shift();
    this.#bytes -= head.bytes;
    this.#offset = 0;
    this.#headDone = 0;
    this.#updateGauges();
    await fsp.rm(path.join(this.dir, segName(head.seq)), { force: true });
  }

  #updateGauges(): void {
    metrics.spoolBytes.set(this.#bytes);
    metrics.spoolBatches.set(this.batches);
  }

  async #reader(seq: number): Promise<fsp.FileHandle> {
    if (this.#readFh?.seq === seq) return this.#readFh.fh;
    await this.#closeRead();
    const fh = await fsp.open(path.join(this.dir, segName(seq)), 'r');
    this.#readFh = { seq, fh };
    return fh;
  }

  async #closeRead(): Promise<void> {
    const r = this.#readFh;
    this.#readFh = undefined;
    await r?.fh.close();
  }
}

