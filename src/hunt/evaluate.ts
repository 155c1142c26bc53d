/** One page of SigNoz rows → detections, through the stream's own mapper and detector. */
import { createHash } from 'node:crypto';
import { buildDetections } from '../detect/build-detection.ts';
import type { Detection } from '../detect/detection.ts';
import type { Detector, RuleInfo } from '../detect/types.ts';
import type { MappedEvent } from '../map/types.ts';
import type { StatefulRecordMapper } from '../map/map-records.ts';
import { readableRecord, type SignozRow } from './signoz-row.ts';

/** Where detections go: DetectionWriter satisfies it (write resolves once the rows are durable). */
export interface DetectionSink {
  /** Resolves with how many of `rows` it stored: a detection it already holds is not stored or counted again. */
  write(rows: readonly Detection[]): Promise<number>;
  /** Resolves once everything written is in ClickHouse (DetectionWriter.stored). */
  stored?(): Promise<void>;
}

export function evaluateRows(rows: readonly SignozRow[], mapper: StatefulRecordMapper, detector: Detector, detectedAtMs: number): Detection[] {
  const records = rows.map(readableRecord).filter((r) => r !== undefined);
  return evaluateEvents(mapper.map(records), detector, detectedAtMs);
}

export function evaluateEvents(events: readonly MappedEvent[], detector: Detector, detectedAtMs: number): Detection[] {
  const out: Detection[] = [];
  for (const { event, record } of events) {
    out.push(...buildDetections(detector.evaluate(event), event, record, detectedAtMs, 'hunt'));
  }
  return out;
}

export function rulesHash(rules: readonly Pick<RuleInfo, 'id'>[]): string {
  const h = createHash('sha256');
  for (const id of rules.map((r) => r.id).sort()) h.update(id).update('\n');
  return h.digest('hex').slice(0, 16);
}
