/**
 * `hunt` over a fixed time range:
 *
 *   read page (keyset, the rules' filter in SQL) ─▶ evaluator (worker pool: parse → map → detect) ─▶ sink
 *        ▲ at most 2 × parallelism pages in flight                       checkpoint, in page order ─┘
 *
 * Pages are read while earlier ones are evaluated; their detections are written as each finishes, but
 * the checkpoint moves past a page only when it and every page before it are durable in the sink, so
 * memory is bounded by the pages in flight and a resumed hunt starts after a page whose predecessors
 * are all stored. The pages after it may be stored too (they were in flight when the hunt stopped): a
 * resumed hunt drops the detections it already stored, by fingerprint, so it stores nothing twice.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Detection } from '../detect/detection.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { BodyLayout } from '../convert/signoz-fields.ts';
import { paramMismatch, readCheckpoint, writeCheckpoint, type HuntParams } from './checkpoint.ts';
import type { DetectionSink } from './evaluate.ts';
import type { PageDetections, PageEvaluator } from './evaluators.ts';
import type { Progress } from './progress.ts';
import { assertTableName, BUCKET_SECONDS, countRows, readPageBytes, type PageQuery, type RowKey } from './reader.ts';

export interface HuntOptions {
  readonly client: ClickHouseClient;
  readonly evaluator: PageEvaluator;
  /** Identifies the rule set (rulesHash): a checkpoint of other rules is refused. */
  readonly rulesHash: string;
  /** SigNoz logs table, `db.table`. Default `signoz_logs.logs_v2`. */
  readonly table?: string;
  readonly layout?: BodyLayout;
  /** Inclusive, ns since the epoch. */
  readonly fromNs: bigint;
  /** Exclusive, ns since the epoch. */
  readonly toNs: bigint;
  /** ClickHouse condition every row a rule can match satisfies (convert's huntFilter); empty = all rows. */
  readonly where?: string;
  /** WITH clause `where` relies on. */
  readonly with?: string;
  /** Rows per page (bounded memory). Default 10000. */
  readonly pageSize?: number;
  readonly sink: DetectionSink;
  /** Fingerprints of hunt detections stored at or after (event time, detection time), ms: for an exact resume. */
  readonly storedFingerprints?: (eventSinceNs: bigint, detectedSinceMs: number) => Promise<Iterable<string>>;
  /** Called with each page's stored detections (e.g. to alert). */
  readonly onStored?: (detections: readonly Detection[]) => void;
  /** Checkpoint file: written after every page; with `resume`, a matching checkpoint is continued. */
  readonly checkpointFile?: string;
  readonly resume?: boolean;
  readonly progress?: Progress;
  /** Stops reading; pages in flight are finished and checkpointed. */
  readonly signal?: AbortSignal;
}

export interface HuntResult {
  readonly rows: number;
  readonly pages: number;
  readonly detections: number;
  /** Rows read but not evaluated: a body_v2 the reader cannot read (json-binary.ts), or an engine error. */
  readonly unevaluated: number;
  /** Distinct rules with a detection in this run. */
  readonly rulesMatched: number;
  readonly elapsedMs: number;
  /** False when stopped by the signal before the end of the range. */
  readonly complete: boolean;
  readonly last: RowKey | null;
}

/** Pause before writing again into a full detection log. */
const BACKPRESSURE_WAIT_MS = 1000;

interface InFlight {
  readonly rows: number;
  readonly last: RowKey;
  readonly done: Promise<number>;
}

export async function runHunt(o: HuntOptions): Promise<HuntResult> {
  const table = assertTableName(o.table ?? 'signoz_logs.logs_v2');
  const pageSize = o.pageSize ?? 10_000;
  if (!Number.isInteger(pageSize) || pageSize <= 0) throw new PipelineError(ErrorCode.CONFIG, `hunt page size ${pageSize} must be a positive integer`, false);
  if (o.toNs <= o.fromNs) throw new PipelineError(ErrorCode.CONFIG, 'hunt range is empty: --to must be after --from', false);
  const where = o.where ?? '';
  const params: HuntParams = { table, fromNs: String(o.fromNs), toNs: String(o.toNs), where: `${o.with ?? ''}${where}`, pageSize, rules: o.rulesHash };

  let last: RowKey | null = null;
  let rows = 0;
  let detections = 0;
  let startedAtMs = Date.now();
  let already: Set<string> | undefined;
  if (o.checkpointFile !== undefined && o.resume === true) {
    const saved = readCheckpoint(o.checkpointFile);
    if (saved !== undefined) {
      const diff = paramMismatch(saved.params, params);
      if (diff !== undefined) throw new PipelineError(ErrorCode.CONFIG, `checkpoint ${o.checkpointFile} belongs to another hunt (${diff}); remove it or drop --resume`, false);
      last = saved.last;
      rows = saved.rows;
      detections = saved.detections;
      startedAtMs = saved.startedAtMs ?? 0;
      if (saved.done) return { rows, pages: 0, detections, unevaluated: 0, rulesMatched: 0, elapsedMs: 0, complete: true, last };
      // Pages after the checkpoint may be stored already (in flight when the hunt stopped).
      await o.sink.stored?.();
      // Rows after the checkpoint are ordered by bucket first, not by time: within the checkpoint's bucket
      // they may be older than its row, so look back to the bucket's start (and the one bucket of slack
      // the range allows an exporter's clock).
      const since = last === null ? o.fromNs : (BigInt(last.bucket) - BUCKET_SECONDS) * 1_000_000_000n;
      if (o.storedFingerprints !== undefined) already = new Set(await o.storedFingerprints(since, startedAtMs));
    }
  }

  const t0 = performance.now();
  const q: PageQuery = { table, fromNs: o.fromNs, toNs: o.toNs, where, with: o.with, limit: pageSize, layout: o.layout };
  const total = o.progress !== undefined && o.progress.active !== false ? await countRows(o.client, q) : 0;
  const save = (done: boolean): void => {
    if (o.checkpointFile !== undefined) writeCheckpoint(o.checkpointFile, { version: 2, params, last, rows, detections, done, startedAtMs });
  };
  const matchedRules = new Set<string>();
  let unevaluated = 0;
  const store = async ({ detections: dets, unevaluated: skipped }: PageDetections): Promise<number> => {
    unevaluated += skipped;
    const fresh = already === undefined ? dets : dets.filter((d) => !already.has(d.fingerprint));
    if (fresh.length === 0) return 0;
    let stored: number;
    for (;;) {
      try {
        stored = await o.sink.write(fresh);
        break;
      } catch (e) {
        // The detection log is full: ClickHouse takes the inserts slower than the hunt finds detections
        // (attack-dense rows: ~1.5 a row). Wait for it rather than fail: the pages in flight bound memory.
        if (!(e instanceof PipelineError && e.code === ErrorCode.BACKPRESSURE) || o.signal?.aborted === true) throw e;
        await new Promise((r) => setTimeout(r, BACKPRESSURE_WAIT_MS));
      }
    }
    for (const d of fresh) matchedRules.add(d.ruleId);
    o.onStored?.(fresh);
    return stored;
  };

  const window: InFlight[] = [];
  const maxInFlight = Math.max(2, 2 * o.evaluator.parallelism);
  let pages = 0;
  /** Waits for the oldest page, then moves the checkpoint past it. */
  const retireOldest = async (): Promise<void> => {
    const p = window.shift()!;
    detections += await p.done;
    rows += p.rows;
    last = p.last;
    pages++;
    save(false);
    o.progress?.update(rows, total, matchedRules.size);
  };
  let after: RowKey | undefined = last ?? undefined;
  let complete = true;
  try {
    for (;;) {
      if (o.signal?.aborted === true) {
        complete = false;
        break;
      }
      const page = await readPageBytes(o.client, q, after);
      if (page.rows === 0 || page.last === undefined) break;
      const done = o.evaluator.evaluate(page.bytes).then(store);
      done.catch(() => undefined); // awaited in order by retireOldest; this only keeps it from being unhandled meanwhile
      window.push({ rows: page.rows, last: page.last, done });
      after = page.last;
      while (window.length >= maxInFlight) await retireOldest();
      if (page.rows < pageSize) break;
    }
    while (window.length > 0) await retireOldest();
  } finally {
    // On an error, let the pages in flight settle (their detections may be stored; the checkpoint stays before them).
    await Promise.allSettled(window.map((p) => p.done));
  }
  if (complete) save(true);
  o.progress?.end();
  return { rows, pages, detections, unevaluated, rulesMatched: matchedRules.size, elapsedMs: performance.now() - t0, complete, last };
}
