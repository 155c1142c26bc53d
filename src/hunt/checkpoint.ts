/**
 * A hunt's progress on disk: its parameters and the last row whose detections are stored, with every
 * row before it. Written atomically (temp file, fsync, rename) once a page and all pages before it are
 * durable; a resumed hunt re-reads the pages after it and drops the detections already stored.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { RowKey } from './reader.ts';

/** Everything that decides which rows a page holds and which detections it yields. */
export interface HuntParams {
  readonly table: string;
  readonly fromNs: string;
  readonly toNs: string;
  readonly where: string;
  readonly pageSize: number;
  /** Hash of the active rule ids: resuming with other rules would mix two hunts. */
  readonly rules: string;
}

/** 2: rows in the table's sorting key order (version 1 paged by bucket, timestamp, id). */
const VERSION = 2;

export interface Checkpoint {
  readonly version: typeof VERSION;
  readonly params: HuntParams;
  readonly last: RowKey | null;
  readonly rows: number;
  readonly detections: number;
  readonly done: boolean;
  /** When the hunt first started (ms): detections stored since then for rows past `last` are this hunt's own. */
  readonly startedAtMs?: number;
}

export function readCheckpoint(file: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PipelineError(ErrorCode.CONFIG, `Cannot read hunt checkpoint ${file}: ${(e as Error).message}`, false, { cause: e });
  }
  try {
    const c = JSON.parse(text) as Checkpoint | { version: number };
    if (c.version === VERSION && 'params' in c && typeof c.params === 'object') return c;
    if (c.version === 1) throw new PipelineError(ErrorCode.CONFIG, `Hunt checkpoint ${file} was written by an older otel-sigma that read the rows in another order; remove it and run the hunt again`, false);
    throw new Error('unknown format');
  } catch (e) {
    if (e instanceof PipelineError) throw e;
    throw new PipelineError(ErrorCode.CONFIG, `Hunt checkpoint ${file} is not readable: ${(e as Error).message}`, false, { cause: e });
  }
}

export function writeCheckpoint(file: string, c: Checkpoint): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(c)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Names the first parameter that differs, or undefined when the checkpoint belongs to this hunt. */
export function paramMismatch(saved: HuntParams, now: HuntParams): string | undefined {
  for (const k of Object.keys(now) as (keyof HuntParams)[]) {
    if (String(saved[k]) !== String(now[k])) return `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`;
  }
  return undefined;
}
