/**
 * The one durable log: an append-only, checksummed, segmented file log with group commit. The
 * detection store acknowledges requests on it and the alert queue keeps undelivered alerts in it.
 *
 * Layout under `dir`: segment files `<16-digit seq>.wal` of records (record.ts), `cursor.json`
 * (`{"seq","offset","pending"?}`: everything before offset in segment seq is consumed; `pending` is
 * the end of a batch handed out and pinned but not yet acked), and `lock.pid`.
 *
 * - append() resolves once its record is written and fdatasync'd. Appends that arrive while a
 *   commit is running wait for the next one, so one fsync covers every request that arrived
 *   meanwhile (group commit) and the fsync rate, not the request rate, is what the disk sees.
 * - Writes are positional at the last committed end: a failed or torn write (ENOSPC, EIO) is
 *   overwritten by the next commit and cut off at recovery; it can never hide a later record that
 *   was acknowledged, because scanning stops only past the last acknowledged one.
 * - Bounded by `maxBytes` of unconsumed data: 'refuse' rejects appends with a retryable
 *   ERR_BACKPRESSURE; 'drop-oldest' discards whole oldest segments through `onDrop`.
 * - peek() hands out the oldest unconsumed records (within one segment), ack() consumes them.
 *   pin() records a batch's end before it is used, so after a crash the first peek re-forms the
 *   very same batch: a consumer that keys idempotency on `batch.id` stays exactly-once.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import { encodeRecord, HEADER_BYTES, payloads, scanRecords } from './record.ts';
import { isProcessAlive } from '../os/process-alive.ts';

export interface DurableLogOptions {
  readonly dir: string;
  /** Short name for metrics and messages: `detections`, `alerts`. */
  readonly name: string;
  /** Bound on unconsumed bytes on disk (plus appends waiting to be written). */
  readonly maxBytes: number;
  readonly whenFull: 'refuse' | 'drop-oldest';
  /** With 'drop-oldest': the payloads discarded to stay within maxBytes. */
  readonly onDrop?: (payloads: Buffer[]) => void;
  /** A new segment starts past this size. Default maxBytes / 16, within 64 KiB – 64 MiB. */
  readonly segmentBytes?: number;
  readonly logger?: Logger;
}

/** Records handed out by peek(), consumed by ack(). */
export interface LogBatch {
  readonly payloads: Buffer[];
  /** Stable across restarts (a pinned batch is re-formed with the same id). */
  readonly id: string;
  readonly seq: number;
  readonly start: number;
  readonly end: number;
}

interface Segment {
  readonly seq: number;
  /** End offset of every complete record. */
  readonly ends: number[];
}

interface Waiting {
  readonly buf: Buffer;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Cursor {
  readonly seq: number;
  readonly offset: number;
  readonly pending?: number;
}

const SEGMENT_RE = /^(\d{16})\.wal$/;
const CURSOR = 'cursor.json';
const LOCK = 'lock.pid';
const ID = 'log.id';
const segName = (seq: number): string => `${String(seq).padStart(16, '0')}.wal`;
const segBytes = (s: Segment): number => s.ends.at(-1) ?? 0;
/** Directories this process holds (a pid lock cannot tell two logs of one process apart). */
const lockedHere = new Set<string>();

export class DurableLog {
  readonly #dir: string;
  readonly #name: string;
  readonly #labels: { log: string };
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #whenFull: 'refuse' | 'drop-oldest';
  readonly #onDrop: ((payloads: Buffer[]) => void) | undefined;
  readonly #logger: Logger | undefined;
  /** Oldest first; the last one is the segment appends go to. */
  readonly #segments: Segment[] = [];
  /** Consumed bytes and records of the head segment. */
  #offset = 0;
  #consumed = 0;
  #pinnedEnd: number | undefined;
  /** Handle of the last segment once this process has written to it; recovered segments are never appended to. */
  #fh: fsp.FileHandle | undefined;
  #nextSeq = 1;
  #waiting: Waiting[] = [];
  #waitingBytes = 0;
  #committing = false;
  #cursorChain: Promise<void> = Promise.resolve();
  #dataWaiters: (() => void)[] = [];
  #closed = false;
  /**
   * Random, fixed for the directory's lifetime: batch ids restart at 1 in a new directory, so a
   * consumer's idempotency key is `${log.id}:${batch.id}`.
   */
  readonly id: string;

  /** Synchronous: runs once at start-up, recovers what a previous process left and takes the lock. */
  constructor(opts: DurableLogOptions) {
    this.#dir = path.resolve(opts.dir);
    this.#name = opts.name;
    this.#labels = { log: opts.name };
    this.#maxBytes = Math.max(64 * 1024, opts.maxBytes);
    this.#segmentBytes = opts.segmentBytes ?? Math.min(64 * 1024 * 1024, Math.max(64 * 1024, Math.floor(this.#maxBytes / 16)));
    this.#whenFull = opts.whenFull;
    this.#onDrop = opts.onDrop;
    this.#logger = opts.logger;
    fs.mkdirSync(this.#dir, { recursive: true });
    lock(this.#dir, this.#name);
    this.id = logId(this.#dir);
    this.#recover();
    this.#gauges();
  }

  get dir(): string {
    return this.#dir;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Unconsumed records. */
  get records(): number {
    let n = 0;
    for (const s of this.#segments) n += s.ends.length;
    return n - this.#consumed;
  }

  /** Unconsumed bytes on disk plus appends waiting for their commit. */
  get bytes(): number {
    let n = this.#waitingBytes - this.#offset;
    for (const s of this.#segments) n += segBytes(s);
    return n;
  }

  /** Resolves once the record is on disk (fdatasync'd); rejects with a retryable PipelineError otherwise. */
  append(payload: Buffer): Promise<void> {
    if (this.#closed) {
      metrics.walFailures.inc({ ...this.#labels, reason: 'closed' });
      return Promise.reject(new PipelineError(ErrorCode.SHUTTING_DOWN, `The ${this.#name} log is closed`, true));
    }
    const buf = encodeRecord(payload);
    if (this.#whenFull === 'drop-oldest' && buf.length > this.#maxBytes) {
      // Keeping it would mean dropping everything else and still exceeding the bound.
      metrics.walDropped.inc(this.#labels);
      this.#onDrop?.([payload]);
      return Promise.resolve();
    }
    const pending = this.bytes;
    // An empty log takes any record, so one larger than the bound is not refused forever.
    if (this.#whenFull === 'refuse' && pending > 0 && pending + buf.length > this.#maxBytes) {
      metrics.walFailures.inc({ ...this.#labels, reason: 'full' });
      return Promise.reject(new PipelineError(
        ErrorCode.BACKPRESSURE,
        `The ${this.#name} log is full (${pending} of ${this.#maxBytes} bytes waiting for ClickHouse); retry later`,
        true,
        { retryAfterSeconds: 2 },
      ));
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#waiting.push({ buf, resolve, reject });
    this.#waitingBytes += buf.length;
    if (!this.#committing) void this.#commitLoop();
    return promise;
  }

  /** Resolves when there is something to peek (at once if there is), or on close(). */
  whenReadable(): Promise<void> {
    if (this.records > 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#dataWaiters.push(resolve));
  }

  /**
   * The oldest unconsumed records of the head segment: at most `maxRecords`, and at most `maxBytes`
   * unless a single record is larger. A pinned batch is always re-formed exactly. Undefined when empty.
   */
  async peek(maxRecords: number, maxBytes: number): Promise<LogBatch | undefined> {
    this.#dropConsumedHead();
    const head = this.#segments[0];
    if (head === undefined || this.#consumed >= head.ends.length) return undefined;
    let i = this.#consumed;
    if (this.#pinnedEnd !== undefined) {
      while (head.ends[i]! < this.#pinnedEnd) i++;
    } else {
      while (i + 1 < head.ends.length && i + 1 - this.#consumed < maxRecords && head.ends[i + 1]! - this.#offset <= maxBytes) i++;
    }
    const start = this.#offset;
    const end = head.ends[i]!;
    const data = Buffer.allocUnsafe(end - start);
    const fh = this.#fh !== undefined && head === this.#segments.at(-1) ? this.#fh : await fsp.open(path.join(this.#dir, segName(head.seq)), 'r');
    try {
      let got = 0;
      while (got < data.length) {
        const { bytesRead } = await fh.read(data, got, data.length - got, start + got);
        if (bytesRead === 0) throw new Error(`${segName(head.seq)} ended at ${start + got}, expected ${end}`);
        got += bytesRead;
      }
    } finally {
      if (fh !== this.#fh) await fh.close();
    }
    return { payloads: payloads(data), id: `${head.seq}:${start}-${end}`, seq: head.seq, start, end };
  }

  /** The first `n` records of a peeked batch, as a batch of its own. */
  prefix(batch: LogBatch, n: number): LogBatch {
    if (n >= batch.payloads.length) return batch;
    let end = batch.start;
    for (let i = 0; i < n; i++) end += HEADER_BYTES + batch.payloads[i]!.length;
    return { payloads: batch.payloads.slice(0, n), id: `${batch.seq}:${batch.start}-${end}`, seq: batch.seq, start: batch.start, end };
  }

  /** Every unconsumed payload, read synchronously: for start-up bookkeeping of small logs. */
  readAllSync(): Buffer[] {
    const out: Buffer[] = [];
    for (const [i, seg] of this.#segments.entries()) {
      if (seg.ends.length === 0) continue;
      const data = fs.readFileSync(path.join(this.#dir, segName(seg.seq)));
      out.push(...payloads(data.subarray(i === 0 ? this.#offset : 0, segBytes(seg))));
    }
    return out;
  }

  /** Persists that `batch` is the next one handed out, before the consumer acts on it. */
  pin(batch: LogBatch): Promise<void> {
    this.#pinnedEnd = batch.end;
    return this.#writeCursor({ seq: batch.seq, offset: batch.start, pending: batch.end });
  }

  /** Consumes a peeked batch. A batch already dropped by the bound is ignored. */
  async ack(batch: LogBatch): Promise<void> {
    const head = this.#segments[0];
    if (head === undefined || head.seq !== batch.seq || batch.end <= this.#offset) return;
    this.#consumed = head.ends.indexOf(batch.end) + 1;
    this.#offset = batch.end;
    this.#pinnedEnd = undefined;
    this.#gauges();
    await this.#writeCursor({ seq: batch.seq, offset: batch.end });
    this.#dropConsumedHead();
  }

  /** Stops accepting; waits for the commit in flight. What is unconsumed stays for the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#dataWaiters.splice(0)) w();
    while (this.#committing) await new Promise((r) => setImmediate(r));
    await this.#cursorChain;
    await this.#fh?.close();
    this.#fh = undefined;
    if (lockedHere.delete(this.#dir)) fs.rmSync(path.join(this.#dir, LOCK), { force: true });
  }

  async #commitLoop(): Promise<void> {
    this.#committing = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#waiting;
        this.#waiting = [];
        const bytes = this.#waitingBytes;
        this.#waitingBytes = 0;
        try {
          await this.#commit(group, bytes);
          for (const w of group) w.resolve();
        } catch (cause) {
          const err = this.#diskError(cause);
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.#committing = false;
    }
  }

  async #commit(group: readonly Waiting[], bytes: number): Promise<void> {
    let active = this.#fh !== undefined ? this.#segments.at(-1) : undefined;
    if (active === undefined || (segBytes(active) > 0 && segBytes(active) + bytes > this.#segmentBytes)) active = await this.#roll();
    if (this.#whenFull === 'drop-oldest') this.#dropOldest(bytes);
    const buf = group.length === 1 ? group[0]!.buf : Buffer.concat(group.map((w) => w.buf), bytes);
    const at = segBytes(active);
    const t0 = performance.now();
    try {
      for (let done = 0; done < buf.length; ) done += (await this.#fh!.write(buf, done, buf.length - done, at + done)).bytesWritten;
      await this.#fh!.datasync();
    } catch (err) {
      // Leave the file ending at the last committed record; if that fails too, the next commit
      // overwrites from the same offset and recovery cuts whatever lies past the last good record.
      await this.#fh!.truncate(at).catch(() => undefined);
      throw err;
    }
    metrics.walFsyncSeconds.observe(this.#labels, (performance.now() - t0) / 1000);
    let end = at;
    for (const w of group) active.ends.push((end += w.buf.length));
    metrics.walCommits.inc(this.#labels);
    metrics.walAppends.inc(this.#labels, group.length);
    this.#gauges();
    for (const w of this.#dataWaiters.splice(0)) w();
  }

  /** Starts the next segment file; its directory entry is made durable before anything is acknowledged in it. */
  async #roll(): Promise<Segment> {
    const seg: Segment = { seq: this.#nextSeq++, ends: [] };
    // w+: peek() reads the segment being written through the same handle.
    const fh = await fsp.open(path.join(this.#dir, segName(seg.seq)), 'w+');
    await syncDir(this.#dir);
    await this.#fh?.close();
    this.#fh = fh;
    this.#segments.push(seg);
    return seg;
  }

  /** 'drop-oldest': whole oldest segments go until `incoming` fits (never the one being written). */
  #dropOldest(incoming: number): void {
    let dropped = 0;
    while (this.#segments.length > 1 && this.bytes + incoming > this.#maxBytes) {
      const head = this.#segments.shift()!;
      const file = path.join(this.#dir, segName(head.seq));
      const data = fs.readFileSync(file).subarray(this.#offset, segBytes(head));
      fs.rmSync(file, { force: true });
      const lost = payloads(data);
      dropped += lost.length;
      this.#offset = 0;
      this.#consumed = 0;
      this.#pinnedEnd = undefined;
      this.#onDrop?.(lost);
    }
    if (dropped > 0) {
      metrics.walDropped.inc(this.#labels, dropped);
      const head = this.#segments[0]!;
      this.#writeCursor({ seq: head.seq, offset: 0 }).catch((err: unknown) => {
        // The segments are gone already: a stale cursor names an older position, and recovery takes every segment left as unconsumed.
        this.#logger?.error({ stage: 'wal', log: this.#name, err }, `cannot write the ${this.#name} log's cursor after dropping old records`);
      });
    }
  }

  #dropConsumedHead(): void {
    // The segment being written stays (it is the last one once this process has written).
    while (this.#segments.length > (this.#fh !== undefined ? 1 : 0) && this.#consumed >= this.#segments[0]!.ends.length) {
      const head = this.#segments.shift()!;
      this.#offset = 0;
      this.#consumed = 0;
      fs.rmSync(path.join(this.#dir, segName(head.seq)), { force: true });
    }
  }

  #writeCursor(c: Cursor): Promise<void> {
    const next = this.#cursorChain.then(async () => {
      const tmp = path.join(this.#dir, `${CURSOR}.tmp`);
      const fh = await fsp.open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(c));
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, path.join(this.#dir, CURSOR));
    });
    this.#cursorChain = next.catch(() => undefined);
    return next;
  }

  #recover(): void {
    const cursor = readCursor(this.#dir);
    const seqs = fs.readdirSync(this.#dir)
      .map((n) => SEGMENT_RE.exec(n)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    let torn = 0;
    for (const seq of seqs) {
      const file = path.join(this.#dir, segName(seq));
      if (seq < cursor.seq) {
        fs.rmSync(file, { force: true }); // consumed; the process stopped before removing it
        continue;
      }
      const data = fs.readFileSync(file);
      const ends = scanRecords(data);
      const valid = ends.at(-1) ?? 0;
      if (valid < data.length) {
        // Only a commit that never resolved can leave bytes past the last valid record.
        fs.truncateSync(file, valid);
        torn += data.length - valid;
        this.#logger?.warn({ stage: 'wal', log: this.#name, segment: segName(seq), keptBytes: valid, cutBytes: data.length - valid }, 'cut a torn tail off the durable log (an append that was never acknowledged)');
      }
      const consumed = seq === cursor.seq ? ends.filter((e) => e <= cursor.offset).length : 0;
      if (consumed === ends.length) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (this.#segments.length === 0) {
        this.#consumed = consumed;
        this.#offset = consumed > 0 ? ends[consumed - 1]! : 0;
        if (seq === cursor.seq && cursor.pending !== undefined && ends.includes(cursor.pending) && cursor.pending > this.#offset) this.#pinnedEnd = cursor.pending;
      }
      this.#segments.push({ seq, ends });
    }
    if (torn > 0) metrics.walTornBytes.inc(this.#labels, torn);
    // Appends always go to a fresh segment (opened on the first commit), numbered after everything seen.
    this.#nextSeq = Math.max(cursor.seq, seqs.at(-1) ?? 0) + 1;
  }

  #gauges(): void {
    metrics.walBytes.set(this.#labels, this.bytes);
    metrics.walRecords.set(this.#labels, this.records);
  }

  #diskError(cause: unknown): PipelineError {
    const code = (cause as NodeJS.ErrnoException).code;
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    metrics.walFailures.inc({ ...this.#labels, reason: full ? 'full' : 'disk' });
    this.#logger?.error({ stage: 'wal', log: this.#name, err: cause }, `cannot write the ${this.#name} log`);
    return new PipelineError(
      full ? ErrorCode.BACKPRESSURE : ErrorCode.STORE,
      `Cannot write the ${this.#name} log in ${this.#dir}${full ? ': the disk is full' : ''}: ${(cause as Error).message}; retry later`,
      true,
      { cause, retryAfterSeconds: 5 },
    );
  }
}

function logId(dir: string): string {
  const file = path.join(dir, ID);
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{16}$/.test(id)) return id;
  } catch {
    // a new directory
  }
  const id = randomBytes(8).toString('hex');
  fs.writeFileSync(file, id, { flush: true });
  return id;
}

function readCursor(dir: string): Cursor {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, CURSOR), 'utf8')) as Partial<Record<keyof Cursor, unknown>>;
    if (typeof c.seq === 'number' && typeof c.offset === 'number') {
      return { seq: c.seq, offset: c.offset, ...(typeof c.pending === 'number' ? { pending: c.pending } : {}) };
    }
  } catch {
    // no cursor yet (or unreadable): everything is unconsumed; consumers are idempotent on batch ids
  }
  return { seq: 0, offset: 0 };
}

/**
 * One owner per log: two processes appending would interleave records. The PID in `lock.pid`;
 * a lock left by a dead process (SIGKILL) is taken over.
 */
function lock(dir: string, name: string): void {
  const file = path.join(dir, LOCK);
  let holder: number | undefined;
  try {
    holder = Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    // no lock yet
  }
  if (lockedHere.has(dir) || (holder !== undefined && holder !== process.pid && isProcessAlive(holder))) {
    throw new PipelineError(ErrorCode.CONFIG, `The ${name} log ${dir} is in use by another ${lockedHere.has(dir) ? 'log of this process' : `process (pid ${holder})`}; give each otel-sigma instance its own storage.data_dir`, false);
  }
  fs.writeFileSync(file, String(process.pid));
  lockedHere.add(dir);
}


async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
