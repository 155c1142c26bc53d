/**
 * `hunt` over a fixed time range: pages of SigNoz rows in key order → the stream's mapper and rules
 * → detections marked `source = 'hunt'`. Each page's detections are written as one write and awaited
 * before the checkpoint moves past the page, so an interrupted hunt resumes where it stopped and a
 * page done twice (stopped between the insert and the checkpoint) repeats an identical batch, which
 * the table's insert deduplication drops.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Detection } from '../detect/detection.ts';
import type { Ruleset } from '../detect/ruleset.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { createRecordMapper } from '../map/map-records.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { paramMismatch, readCheckpoint, writeCheckpoint, type HuntParams } from './checkpoint.ts';
import { evaluateEvents, evaluateRows, rulesHash, type DetectionSink } from './evaluate.ts';
import type { Progress } from './progress.ts';
import { assertTableName, countRows, keyOf, readPage, type RowKey } from './reader.ts';

export interface HuntOptions {
  readonly client: ClickHouseClient;
  readonly ruleset: Pick<Ruleset, 'detector' | 'rules'>;
  readonly mapping?: LogsourceMapping;
  /** SigNoz logs table, `db.table`. Default `signoz_logs.logs_v2`. */
  readonly table?: string;
  /** Inclusive, ns since the epoch. */
  readonly fromNs: bigint;
  /** Exclusive, ns since the epoch. */
  readonly toNs: bigint;
  /** ClickHouse condition that every row a rule could match satisfies (convert's prefilter); empty = all rows. */
  readonly where?: string;
  /** WITH clause `where` relies on (Prefilter.with). */
  readonly with?: string;
  /** Rows per page (bounded memory). Default 10000. */
  readonly pageSize?: number;
  readonly sink: DetectionSink;
  /** Called with each page's stored detections (e.g. to alert). */
  readonly onStored?: (detections: readonly Detection[]) => void;
  /** Checkpoint file: written after every page; with `resume`, a matching checkpoint is continued. */
  readonly checkpointFile?: string;
  readonly resume?: boolean;
  readonly progress?: Progress;
  /** Stops after the page in progress (its detections and checkpoint are written). */
  readonly signal?: AbortSignal;
}

export interface HuntResult {
  readonly rows: number;
  readonly pages: number;
  readonly detections: number;
  readonly elapsedMs: number;
  /** False when stopped by the signal before the end of the range. */
  readonly complete: boolean;
  readonly last: RowKey | null;
}

export async function runHunt(o: HuntOptions): Promise<HuntResult> {
  const table = assertTableName(o.table ?? 'signoz_logs.logs_v2');
  const pageSize = o.pageSize ?? 10_000;
  if (!Number.isInteger(pageSize) || pageSize <= 0) throw new PipelineError(ErrorCode.CONFIG, `hunt page size ${pageSize} must be a positive integer`, false);
  if (o.toNs <= o.fromNs) throw new PipelineError(ErrorCode.CONFIG, 'hunt range is empty: --to must be after --from', false);
  const where = o.where ?? '';
  const params: HuntParams = { table, fromNs: String(o.fromNs), toNs: String(o.toNs), where: `${o.with ?? ''}${where}`, pageSize, rules: rulesHash(o.ruleset.rules) };

  let last: RowKey | null = null;
  let rows = 0;
  let detections = 0;
  if (o.checkpointFile !== undefined && o.resume === true) {
    const saved = readCheckpoint(o.checkpointFile);
    if (saved !== undefined) {
      const diff = paramMismatch(saved.params, params);
      if (diff !== undefined) throw new PipelineError(ErrorCode.CONFIG, `checkpoint ${o.checkpointFile} belongs to another hunt (${diff}); remove it or drop --resume`, false);
      last = saved.last;
      rows = saved.rows;
      detections = saved.detections;
      if (saved.done) return { rows, pages: 0, detections, elapsedMs: 0, complete: true, last };
    }
  }

  const t0 = performance.now();
  const q = { table, fromNs: o.fromNs, toNs: o.toNs, where, with: o.with, limit: pageSize };
  const total = o.progress !== undefined && o.progress.active !== false ? await countRows(o.client, q) : 0;
  const mapper = createRecordMapper(o.mapping ? { mapping: o.mapping } : {});
  const save = (done: boolean): void => {
    if (o.checkpointFile !== undefined) writeCheckpoint(o.checkpointFile, { version: 1, params, last, rows, detections, done });
  };
  const store = async (dets: Detection[]): Promise<void> => {
    if (dets.length === 0) return;
    await o.sink.write(dets);
    detections += dets.length;
    o.onStored?.(dets);
  };

  let pages = 0;
  for (;;) {
    if (o.signal?.aborted === true) return { rows, pages, detections, elapsedMs: performance.now() - t0, complete: false, last };
    const page = await readPage(o.client, q, last ?? undefined);
    if (page.length === 0) break;
    await store(evaluateRows(page, mapper, o.ruleset.detector, Date.now()));
    last = keyOf(page[page.length - 1]!);
    rows += page.length;
    pages++;
    save(false);
    o.progress?.update(rows, total);
    if (page.length < pageSize) break;
  }
  // auditd records whose event never completed inside the range
  await store(evaluateEvents(mapper.flush(), o.ruleset.detector, Date.now()));
  save(true);
  o.progress?.end();
  return { rows, pages, detections, elapsedMs: performance.now() - t0, complete: true, last };
}
