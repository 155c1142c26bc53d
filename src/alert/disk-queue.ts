/**
 * Alerts waiting for Keep, on disk, so neither an outage nor a restart (even SIGKILL) loses them.
 *
 * Layout under `dir`: append-only segment files `<16-digit seq>.ndjson` (one AlertDto JSON per
 * line) and `cursor.json` (`{"seq","offset"}`: everything before it is delivered). Appends are
 * written and fdatasync'd per batch; the cursor is replaced by rename after each ack, so a crash
 * between Keep's 202 and the cursor write re-sends that batch once (Keep drops full duplicates by
 * our stable id). A torn last line from a crash mid-write is cut off on open.
 *
 * Bounded by `maxBytes` of pending data: when an append would exceed it, whole segments are
 * dropped oldest first and their alerts handed to `onDrop`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { AlertQueue, DropHandler, QueuedBatch } from './alert-queue.ts';
import type { AlertDto } from './keep-types.ts';

interface Segment {
  readonly seq: number;
  bytes: number;
  /** Complete lines (alerts) in the file, delivered or not. */
  lines: number;
}

interface Token {
  readonly seq: number;
  readonly end: number;
  readonly lines: number;
}

const SEGMENT_RE = /^(\d{16})\.ndjson$/;
const CURSOR = 'cursor.json';
const LOCK = 'lock';
/** Directories locked by queues of this process (the pid in a lock file cannot tell them apart). */
const lockedHere = new Set<string>();
/** The most one peek reads; a batch never needs more. */
const READ_CHUNK = 1024 * 1024;

const segName = (seq: number): string => `${String(seq).padStart(16, '0')}.ndjson`;

export class DiskQueue implements AlertQueue {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #onDrop: DropHandler;
  readonly #segments: Segment[] = [];
  /** Position of the first undelivered byte / line in the head segment. */
  #offset = 0;
  #lineOffset = 0;
  /** Next segment number; never reuses one the cursor has passed. */
  #nextSeq = 1;
  #fh: fsp.FileHandle | undefined;
  /** Appends, acks and drops run one at a time, in call order. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Lines that failed to parse when read back (torn or foreign content). */
  corrupt = 0;

  /** Synchronous: runs once at startup and recovers what a previous process left. */
  constructor(dir: string, maxBytes: number, onDrop: DropHandler) {
    this.#dir = dir;
    this.#maxBytes = Math.max(4096, maxBytes);
    // Small enough that the bound drops little at a time, large enough to keep file counts low.
    this.#segmentBytes = Math.min(4 * 1024 * 1024, Math.max(4096, Math.floor(this.#maxBytes / 16)));
    this.#onDrop = onDrop;
    fs.mkdirSync(dir, { recursive: true });
    lock(dir);
    this.#recover();
  }

  get length(): number {
    let n = 0;
    for (const s of this.#segments) n += s.lines;
    return n - this.#lineOffset;
  }

  /** Bytes appended and not yet acked. */
  get pendingBytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.bytes;
    return n - this.#offset;
  }

  append(alerts: readonly AlertDto[]): Promise<void> {
    if (alerts.length === 0) return Promise.resolve();
    return this.#serial(() => this.#append(alerts));
  }

  peek(max: number): Promise<QueuedBatch | undefined> {
    return this.#serial(() => this.#peek(max));
  }

  ack(batch: QueuedBatch): Promise<void> {
    return this.#serial(() => this.#ack(batch.token as Token));
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      await this.#fh?.close();
      this.#fh = undefined;
      if (lockedHere.delete(path.resolve(this.#dir))) await fsp.rm(path.join(this.#dir, LOCK), { force: true });
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #append(alerts: readonly AlertDto[]): Promise<void> {
    const buf = Buffer.from(alerts.map((a) => `${JSON.stringify(a)}\n`).join(''), 'utf8');
    if (buf.length > this.#maxBytes) {
      this.#onDrop(alerts);
      return;
    }
    while (this.pendingBytes + buf.length > this.#maxBytes && this.#segments.length > 0) await this.#dropHead();
    let tail = this.#segments.at(-1);
    if (tail === undefined || this.#fh === undefined || tail.bytes >= this.#segmentBytes) {
      tail = await this.#roll();
    }
    const fh = this.#fh;
    if (fh === undefined) throw new Error('alert queue: no open segment');
    await fh.write(buf);
    await fh.datasync();
    tail.bytes += buf.length;
    tail.lines += alerts.length;
  }

  async #peek(max: number): Promise<QueuedBatch | undefined> {
    for (;;) {
      const head = this.#segments[0];
      if (head === undefined) return undefined;
      if (this.#offset >= head.bytes) {
        // Fully delivered: only the tail stays open for appends.
        if (this.#segments.length === 1) return undefined;
        await this.#removeHead();
        continue;
      }
      const alerts: AlertDto[] = [];
      let end = this.#offset;
      let lines = 0;
      const left = head.bytes - this.#offset;
      let text = await this.#read(head.seq, this.#offset, Math.min(READ_CHUNK, left));
      // One alert longer than a chunk: read the rest of the segment.
      if (text.indexOf(0x0a) < 0 && left > text.length) text = await this.#read(head.seq, this.#offset, left);
      let at = 0;
      while (alerts.length < max) {
        const nl = text.indexOf('\n', at);
        if (nl < 0) break;
        const line = text.subarray(at, nl);
        end += nl + 1 - at;
        at = nl + 1;
        lines++;
        const a = parse(line);
        if (a) alerts.push(a);
        else this.corrupt++;
      }
      // A batch of corrupt lines only: skip past them and look again.
      if (alerts.length === 0 && lines > 0) {
        await this.#ack({ seq: head.seq, end, lines });
        continue;
      }
      if (alerts.length === 0) return undefined;
      return { alerts, token: { seq: head.seq, end, lines } satisfies Token };
    }
  }

  async #ack(t: Token): Promise<void> {
    const head = this.#segments[0];
    // The bound dropped this segment while the batch was in flight.
    if (head === undefined || head.seq !== t.seq || t.end <= this.#offset) return;
    this.#offset = t.end;
    this.#lineOffset += t.lines;
    if (this.#offset >= head.bytes && this.#segments.length > 1) await this.#removeHead();
    else await this.#writeCursor();
  }

  async #dropHead(): Promise<void> {
    const head = this.#segments[0];
    if (head === undefined) return;
    if (this.#segments.length === 1) {
      // Never drop the file being appended to: roll it so it becomes droppable.
      await this.#roll();
    }
    const text = await this.#read(head.seq, this.#offset, head.bytes - this.#offset);
    const dropped: AlertDto[] = [];
    for (const line of text.toString('utf8').split('\n')) {
      const a = line ? parse(Buffer.from(line)) : undefined;
      if (a) dropped.push(a);
    }
    await this.#removeHead();
    if (dropped.length > 0) this.#onDrop(dropped);
  }

  async #roll(): Promise<Segment> {
    await this.#fh?.close();
    this.#fh = undefined;
    const seg: Segment = { seq: this.#nextSeq++, bytes: 0, lines: 0 };
    this.#fh = await fsp.open(path.join(this.#dir, segName(seg.seq)), 'a');
    this.#segments.push(seg);
    return seg;
  }

  async #removeHead(): Promise<void> {
    const head = this.#segments.shift();
    if (head === undefined) return;
    this.#offset = 0;
    this.#lineOffset = 0;
    await this.#writeCursor();
    await fsp.rm(path.join(this.#dir, segName(head.seq)), { force: true });
  }

  async #read(seq: number, offset: number, length: number): Promise<Buffer> {
    const fh = await fsp.open(path.join(this.#dir, segName(seq)), 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async #writeCursor(): Promise<void> {
    const seq = this.#segments[0]?.seq ?? this.#nextSeq;
    const tmp = path.join(this.#dir, `${CURSOR}.tmp`);
    await fsp.writeFile(tmp, JSON.stringify({ seq, offset: this.#offset, lines: this.#lineOffset }));
    await fsp.rename(tmp, path.join(this.#dir, CURSOR));
  }

  #recover(): void {
    const seqs = fs.readdirSync(this.#dir).flatMap((f) => {
      const m = SEGMENT_RE.exec(f);
      return m?.[1] ? [Number(m[1])] : [];
    });
    seqs.sort((a, b) => a - b);
    const cursor = readCursor(path.join(this.#dir, CURSOR));
    for (const seq of seqs) {
      const file = path.join(this.#dir, segName(seq));
      if (seq < cursor.seq) {
        fs.rmSync(file, { force: true });
        continue;
      }
      let data = fs.readFileSync(file);
      const cut = data.lastIndexOf(0x0a) + 1;
      if (cut < data.length) {
        // A write torn by a crash: the partial line was never acknowledged as queued.
        fs.truncateSync(file, cut);
        data = data.subarray(0, cut);
      }
      let lines = 0;
      for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) lines++;
      this.#segments.push({ seq, bytes: data.length, lines });
    }
    const head = this.#segments[0];
    if (head !== undefined && head.seq === cursor.seq) {
      this.#offset = Math.min(cursor.offset, head.bytes);
      this.#lineOffset = Math.min(cursor.lines, head.lines);
    }
    // Appends always go to a fresh segment: no need to trust the old tail beyond its last newline.
    this.#nextSeq = Math.max(cursor.seq, (this.#segments.at(-1)?.seq ?? 0) + 1, 1);
  }
}

/**
 * One process per queue directory: two writers would interleave segments and cursors. A lock left
 * by a dead process (crash, SIGKILL) is taken over; so is one with our own pid that no queue of
 * this process holds (a restarted container's process often gets the same pid).
 */
function lock(dir: string): void {
  const file = path.join(dir, LOCK);
  const key = path.resolve(dir);
  if (lockedHere.has(key)) throw inUse(dir, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      lockedHere.add(key);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw inUse(dir, pid);
    fs.rmSync(file, { force: true });
  }
  throw inUse(dir, 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const inUse = (dir: string, pid: number): PipelineError =>
  new PipelineError(ErrorCode.CONFIG, `alert queue directory ${dir} is in use${pid ? ` by process ${pid}` : ''}; every otel-sigma instance needs its own data_dir`, false);

function parse(line: Buffer): AlertDto | undefined {
  try {
    const v: unknown = JSON.parse(line.toString('utf8'));
    return typeof v === 'object' && v !== null && typeof (v as { fingerprint?: unknown }).fingerprint === 'string' ? (v as AlertDto) : undefined;
  } catch {
    return undefined;
  }
}

function readCursor(file: string): { seq: number; offset: number; lines: number } {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const n = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
    return { seq: n(v['seq']), offset: n(v['offset']), lines: n(v['lines']) };
  } catch {
    return { seq: 0, offset: 0, lines: 0 };
  }
}
