/**
 * `hunt --follow`: keeps hunting new rows, for deployments whose collector cannot fan out to
 * otel-sigma. Every poll re-reads from `watermark - lookback` (rows may be inserted late: agents
 * batch, collectors retry), and skips rows it has already processed by id. The set of seen ids only
 * holds rows inside the lookback window, and is capped; a row arriving later than the lookback
 * behind the newest row seen is not picked up (make the lookback longer than the worst delay).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Detection } from '../detect/detection.ts';
import type { Ruleset } from '../detect/ruleset.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper } from '../map/map-records.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { evaluateRows, type DetectionSink } from './evaluate.ts';
import { assertTableName, keyOf, readPage, type RowKey } from './reader.ts';
import type { SignozRow } from './signoz-row.ts';

export interface FollowOptions {
  readonly client: ClickHouseClient;
  readonly ruleset: Pick<Ruleset, 'detector' | 'rules'>;
  readonly mapping?: LogsourceMapping;
  readonly table?: string;
  /** First watermark: rows with timestamp ≥ this are hunted (ns). */
  readonly fromNs: bigint;
  readonly where?: string;
  /** WITH clause `where` relies on (Prefilter.with). */
  readonly with?: string;
  readonly pageSize?: number;
  /** Pause between polls that found nothing new. Default 10 s. */
  readonly intervalMs?: number;
  /** How far behind the watermark each poll re-reads, ns. Default 5 min. */
  readonly lookbackNs?: bigint;
  /** Cap on remembered ids (oldest forgotten first). Default 1,000,000. */
  readonly maxSeen?: number;
  readonly sink: DetectionSink;
  readonly onStored?: (detections: readonly Detection[]) => void;
  /**
   * Fingerprints of hunt detections already stored for events at or after the given time (a restart
   * re-reads the lookback window with an empty set of seen ids; these keep its detections from being
   * stored twice). Called once, at start.
   */
  readonly storedFingerprints?: (sinceNs: bigint) => Promise<Iterable<string>>;
  /** After every poll (tests and the CLI's status line). */
  readonly onPoll?: (s: FollowStatus) => void;
  readonly signal: AbortSignal;
}

export interface FollowStatus {
  readonly polls: number;
  readonly rows: number;
  readonly skipped: number;
  readonly detections: number;
  readonly watermarkNs: bigint;
  readonly seen: number;
}

export async function followHunt(o: FollowOptions): Promise<FollowStatus> {
  const table = assertTableName(o.table ?? 'signoz_logs.logs_v2');
  const pageSize = o.pageSize ?? 10_000;
  const intervalMs = o.intervalMs ?? 10_000;
  const lookback = o.lookbackNs ?? 300_000_000_000n;
  const maxSeen = o.maxSeen ?? 1_000_000;
  if (!Number.isInteger(pageSize) || pageSize <= 0) throw new PipelineError(ErrorCode.CONFIG, `hunt page size ${pageSize} must be a positive integer`, false);
  const mapper = createRecordMapper({ mapping: o.mapping ?? loadLogsourceMapping() });
  // id → timestamp; a Map keeps insertion order, so the cap can forget the oldest first.
  const seen = new Map<string, bigint>();
  let watermark = o.fromNs;
  let polls = 0;
  let rows = 0;
  let skipped = 0;
  let detections = 0;
  // Only consulted for detections of rows this run has not seen; rows from before the start window
  // can no longer be read, so the set does not need to grow.
  const stored = new Set(o.storedFingerprints ? await o.storedFingerprints(o.fromNs) : []);
  const status = (): FollowStatus => ({ polls, rows, skipped, detections, watermarkNs: watermark, seen: seen.size });

  while (!o.signal.aborted) {
    const low = watermark - lookback > o.fromNs ? watermark - lookback : o.fromNs;
    const q = { table, fromNs: low, where: o.where, with: o.with, limit: pageSize };
    let after: RowKey | undefined;
    let fresh = 0;
    let maxTs = watermark;
    for (;;) {
      const page = await readPage(o.client, q, after);
      if (page.length === 0) break;
      const unseen: SignozRow[] = [];
      for (const r of page) {
        if (seen.has(r.id)) {
          skipped++;
          continue;
        }
        unseen.push(r);
      }
      if (unseen.length > 0) {
        let dets = evaluateRows(unseen, mapper, o.ruleset.detector, Date.now());
        if (stored.size > 0) dets = dets.filter((d) => !stored.has(d.fingerprint));
        if (dets.length > 0) {
          detections += await o.sink.write(dets);
          o.onStored?.(dets);
        }
        // Marked seen only once their detections are stored: a failed write re-reads them next poll.
        for (const r of unseen) {
          const ts = BigInt(r.timestamp);
          seen.set(r.id, ts);
          if (ts > maxTs) maxTs = ts;
        }
        fresh += unseen.length;
        rows += unseen.length;
      }
      const lastRow = page[page.length - 1]!;
      after = keyOf(lastRow);
      if (page.length < pageSize || o.signal.aborted) break;
    }
    watermark = maxTs;
    forget(seen, watermark - lookback, maxSeen);
    polls++;
    o.onPoll?.(status());
    if (fresh === 0 && !o.signal.aborted) await sleep(intervalMs, o.signal);
  }
  return status();
}

/** Drops ids older than the window (they can no longer be re-read) and the oldest beyond the cap. */
function forget(seen: Map<string, bigint>, before: bigint, cap: number): void {
  for (const [id, ts] of seen) if (ts < before) seen.delete(id);
  let excess = seen.size - cap;
  for (const id of seen.keys()) {
    if (excess-- <= 0) break;
    seen.delete(id);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
