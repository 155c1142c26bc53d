/**
 * The spool's files besides the records themselves: start-up recovery of the segment files, the
 * replay cursor, and the owner lock. See spool.ts for the layout and the guarantees.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { decodeRecord, HEADER_BYTES, scanSegment } from './spool-record.ts';

export interface Segment {
  readonly seq: number;
  bytes: number;
  /** End offset, row count and `tried` flag of each record. */
  readonly ends: number[];
  readonly rows: number[];
  readonly tried: boolean[];
}

export interface Recovered {
  readonly segments: Segment[];
  /** Replay position in the head segment: byte offset and records before it. */
  readonly offset: number;
  readonly headDone: number;
  /** End of the group handed out before the crash but never acked, to be re-formed exactly. */
  readonly pendingEnd: number | undefined;
  readonly nextSeq: number;
  /** Bytes cut off torn or corrupt tails. */
  readonly cutBytes: number;
}

interface Cursor {
  readonly seq: number;
  readonly offset: number;
  readonly pending?: number;
}

const SEGMENT_RE = /^(\d{16})\.spool$/;
const CURSOR = 'cursor.json';
export const LOCK = 'lock.pid';
export const segName = (seq: number): string => `${String(seq).padStart(16, '0')}.spool`;

/** Synchronous, once at start-up: scans every segment, cuts torn tails, drops replayed files. */
export function recoverSegments(dir: string, logger: Logger | undefined): Recovered {
  const cursor = readCursor(dir);
  const segments: Segment[] = [];
  let offset = 0;
  let headDone = 0;
  let pendingEnd: number | undefined;
  let nextSeq = cursor.seq + 1;
  let cutBytes = 0;
  const seqs = fs
    .readdirSync(dir)
    .map((n) => SEGMENT_RE.exec(n)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  for (const seq of seqs) {
    nextSeq = Math.max(nextSeq, seq + 1);
    const file = path.join(dir, segName(seq));
    if (seq < cursor.seq) {
      fs.rmSync(file, { force: true }); // replayed; the process stopped before deleting it
      continue;
    }
    const data = fs.readFileSync(file);
    const { validBytes, ends, rows, tried } = scanSegment(data);
    if (validBytes < data.length) {
      // Only an append that never resolved can be torn, so nothing acknowledged is cut.
      fs.truncateSync(file, validBytes);
      cutBytes += data.length - validBytes;
      logger?.warn({ stage: 'store', segment: segName(seq), keptBytes: validBytes, cutBytes: data.length - validBytes }, 'cut a torn record off the detection spool');
    }
    const done = seq === cursor.seq ? ends.filter((e) => e <= cursor.offset).length : 0;
    if (done === ends.length) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (segments.length === 0) {
      offset = done > 0 ? ends[done - 1]! : 0;
      headDone = done;
      if (seq === cursor.seq && cursor.pending !== undefined && cursor.pending > offset && ends.includes(cursor.pending)) pendingEnd = cursor.pending;
    }
    segments.push({ seq, bytes: validBytes, ends: [...ends], rows: [...rows], tried: [...tried] });
  }
  return { segments, offset, headDone, pendingEnd, nextSeq, cutBytes };
}

function readCursor(dir: string): Cursor {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, CURSOR), 'utf8')) as { seq?: unknown; offset?: unknown; pending?: unknown };
    if (typeof c.seq === 'number' && typeof c.offset === 'number') {
      return { seq: c.seq, offset: c.offset, ...(typeof c.pending === 'number' ? { pending: c.pending } : {}) };
    }
  } catch {
    // no cursor yet (or unreadable): replay everything; the dedup tokens make that safe
  }
  return { seq: 0, offset: 0 };
}

/** Replaces the cursor atomically (write, fdatasync, rename). */
export async function writeCursor(dir: string, cursor: Cursor): Promise<void> {
  const tmp = path.join(dir, `${CURSOR}.tmp`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(cursor));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path.join(dir, CURSOR));
}

/** Decodes consecutive records into one batch body; the token is the record's own, or derived from all of theirs. */
export function decodeGroup(data: Buffer): { token: string; body: Buffer } | undefined {
  const tokens: string[] = [];
  const bodies: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    if (at + HEADER_BYTES > data.length) return undefined;
    const len = HEADER_BYTES + data.readUInt32LE(at + 4);
    const rec = decodeRecord(data.subarray(at, at + len));
    if (rec === undefined) return undefined;
    tokens.push(rec.token);
    bodies.push(rec.body);
    at += len;
  }
  if (tokens.length === 1) return { token: tokens[0]!, body: bodies[0]! };
  return { token: createHash('sha256').update(`group\n${tokens.join('\n')}`).digest('hex'), body: Buffer.concat(bodies) };
}

/**
 * Two processes appending to one spool would interleave records, so a spool has one owner: the PID
 * in `lock.pid` (best effort, not atomic). A lock left by a dead process (SIGKILL) is taken over.
 */
export function lockSpool(dir: string): void {
  const file = path.join(dir, LOCK);
  let holder: number | undefined;
  try {
    holder = Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    // no lock yet
  }
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new PipelineError(
      ErrorCode.STORE,
      `The detection spool ${dir} is in use by another process (pid ${holder}); give each otel-sigma instance its own storage.spool_dir`,
      false,
    );
  }
  fs.writeFileSync(file, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
