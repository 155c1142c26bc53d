/**
 * A page of SigNoz rows (JSONEachRow text, as ClickHouse wrote it) → detections, through the stream's
 * mapper and detector and its per-record bound. Runs in the hunt worker (worker.ts) and, for small
 * rule sets and `--follow`, in-process.
 */
import { buildDetections } from '../detect/build-detection.ts';
import type { Detection } from '../detect/detection.ts';
import { MAX_DETECTIONS_PER_RECORD } from '../detect/run-task.ts';
import type { Detector, RuleMatch } from '../detect/types.ts';
import type { LogRecordView } from '../decode/types.ts';
import type { StatefulRecordMapper } from '../map/map-records.ts';
import type { MappedEvent } from '../map/types.ts';
import { readableRecord, type SignozRow } from './signoz-row.ts';

const LEVEL_RANK: Readonly<Record<string, number>> = { critical: 4, high: 3, medium: 2, low: 1, informational: 0 };

export interface PageOutcome {
  readonly detections: Detection[];
  readonly records: number;
  /** Records the engine could not evaluate (counted, as the stream does). */
  readonly evalErrors: number;
}

/** `keepBody` false: detections carry an empty body (storage.store_body false). */
export function evaluatePageText(text: string, mapper: StatefulRecordMapper, detector: Detector, detectedAtMs: number, keepBody = true): PageOutcome {
  const detections: Detection[] = [];
  let records = 0;
  let evalErrors = 0;
  const evaluate = ({ event, record }: MappedEvent): void => {
    let matches: readonly RuleMatch[];
    try {
      matches = detector.evaluate(event);
    } catch {
      evalErrors++;
      return;
    }
    if (matches.length > MAX_DETECTIONS_PER_RECORD) {
      matches = [...matches].sort((a, b) => (LEVEL_RANK[b.rule.level] ?? 0) - (LEVEL_RANK[a.rule.level] ?? 0)).slice(0, MAX_DETECTIONS_PER_RECORD);
    }
    if (matches.length > 0) detections.push(...buildDetections(matches, event, record, detectedAtMs, 'hunt', keepBody));
  };
  const rest: LogRecordView[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) {
      records++;
      const record = readableRecord(JSON.parse(text.slice(start, end)) as SignozRow);
      if (record === undefined) {
        evalErrors++;
      } else {
        const mapped = mapper.mapOne(record);
        if (mapped !== null) evaluate(mapped);
        else rest.push(record);
      }
    }
    start = end + 1;
  }
  for (const e of mapper.mapRest(rest)) evaluate(e);
  // As the stream does at the end of each request: an auditd event split across two pages is two events.
  for (const e of mapper.flush()) evaluate(e);
  return { detections, records, evalErrors };
}
