/**
 * One detection task, as a worker runs it: raw request bytes → decode → map → evaluate → detection rows.
 * Windows records (nearly all of a Windows estate's traffic) are mapped and evaluated as each is
 * decoded, while it is still in the young generation; records for the Linux and generic mappers are
 * gathered and mapped together at the end, because auditd joins the records of one event.
 * Returns a result, never throws (the worker boundary).
 */
import { forEachExportRecord } from '../decode/export-request.ts';
import type { LogRecordView } from '../decode/types.ts';
import { ErrorCode, isPipelineError } from '../errors.ts';
import type { StatefulRecordMapper } from '../map/map-records.ts';
import type { MappedEvent } from '../map/types.ts';
import { buildDetections } from './build-detection.ts';
import type { Detection } from './detection.ts';
import type { DetectResult, DetectTask } from './task.ts';
import type { Detector } from './types.ts';

export interface TaskRunnerOptions {
  readonly detector: Detector;
  readonly mapper: StatefulRecordMapper;
  readonly maxRequestBytes: number;
}

export function createTaskRunner(opts: TaskRunnerOptions): (task: DetectTask) => DetectResult {
  const { detector, mapper, maxRequestBytes } = opts;
  /** The engine's own counter (rule evaluations after candidate pruning), when it keeps one. */
  const counters = detector as { readonly ruleEvaluations?: number };

  return (task) => {
    const detections: Detection[] = [];
    const now = Date.now();
    const evaluationsBefore = counters.ruleEvaluations ?? 0;
    let records = 0;
    let events = 0;
    let evalErrors = 0;
    const evaluate = ({ event, record }: MappedEvent): void => {
      events++;
      let matches;
      try {
        matches = detector.evaluate(event);
      } catch {
        evalErrors++;
        return;
      }
      if (matches.length > 0) detections.push(...buildDetections(matches, event, record, now, 'stream'));
    };
    try {
      const rest: LogRecordView[] = [];
      forEachExportRecord(task, maxRequestBytes, (record) => {
        records++;
        const mapped = mapper.mapOne(record);
        if (mapped !== null) evaluate(mapped);
        else rest.push(record);
      });
      for (const e of mapper.mapRest(rest)) evaluate(e);
      // Flushing the mapper's held auditd records at the end of each request keeps every acknowledged
      // record evaluated before the ack (no event waits in a worker across requests); auditd writes an
      // event's records together, so they arrive in one collector batch in practice.
      for (const e of mapper.flush()) evaluate(e);
    } catch (err) {
      // A malformed request is refused whole (the collector drops it as a permanent error); detections
      // of the records decoded before the fault are discarded with it.
      if (isPipelineError(err)) return { ok: false, code: err.code, message: err.message, retryable: err.retryable };
      return { ok: false, code: ErrorCode.WORKER, message: `worker failed: ${(err as Error).message}`, retryable: false };
    }
    return {
      ok: true,
      rejected: evalErrors,
      errorMessage: evalErrors > 0 ? `${evalErrors} log records could not be evaluated` : '',
      detections,
      stats: { records, events, ruleEvaluations: (counters.ruleEvaluations ?? 0) - evaluationsBefore, evalErrors },
    };
  };
}
