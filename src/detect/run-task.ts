/**
 * One detection task, as a worker runs it: raw request bytes → decode → map → evaluate → detection rows.
 * Windows records (nearly all of a Windows estate's traffic) are mapped and evaluated as each is
 * decoded, while it is still in the young generation; records for the Linux and generic mappers are
 * gathered and mapped together at the end, because auditd joins the records of one event.
 * Returns a result, never throws (the worker boundary).
 */
import { forEachExportRecord } from '../decode/export-request.ts';
import { checkRecord, DEFAULT_RECORD_LIMITS, type RecordLimits } from '../decode/record-limits.ts';
import type { LogRecordView } from '../decode/types.ts';
import { ErrorCode, isPipelineError } from '../errors.ts';
import type { StatefulRecordMapper } from '../map/map-records.ts';
import type { MappedEvent, SigmaEvent } from '../map/types.ts';
import { buildDetections, detectionFingerprint, recordIdentity } from './build-detection.ts';
import type { CorrelationInput } from './correlation/types.ts';
import type { DetectResult, DetectTask } from './task.ts';
import type { Detection, DetectionSource } from './detection.ts';
import type { Detector, RuleMatch } from './types.ts';

/** Which matches the correlation stage needs (see Correlator.referencedRules / suppressedRules / fieldsFor). */
export interface CorrelationPlan {
  /** Referenced rule id → the event fields its matches carry to the correlation stage. */
  readonly referenced: ReadonlyMap<string, readonly string[]>;
  /** Rules that only feed correlations (`generate: false`): their own detections are not emitted. */
  readonly suppressed: ReadonlySet<string>;
}

export interface TaskRunnerOptions {
  readonly detector: Detector;
  readonly mapper: StatefulRecordMapper;
  readonly maxRequestBytes: number;
  readonly correlation?: CorrelationPlan;
  /** Most detections kept per record (the highest levels first). Default MAX_DETECTIONS_PER_RECORD. */
  readonly maxPerRecord?: number;
  /** Most detections kept per request. Default MAX_DETECTIONS_PER_REQUEST. */
  readonly maxPerRequest?: number;
  /** Bounds on records per request, attributes per record and value length. Default DEFAULT_RECORD_LIMITS. */
  readonly limits?: RecordLimits;
  /** Detections carry the record's body (WorkerConfig.keepBody). Default true. */
  readonly keepBody?: boolean;
}

/**
 * Bounds on what one record and one request can make, so a crafted record cannot take memory with it:
 * one 518 KB record whose fields hold arrays of process-creation values matched 1,188 SigmaHQ rules.
 * Real records match a handful (the regression corpus: at most 9). What is over is counted and reported
 * in partial_success, never silently lost.
 */
export const MAX_DETECTIONS_PER_RECORD = 64;
export const MAX_DETECTIONS_PER_REQUEST = 20_000;

const LEVEL_RANK: Readonly<Record<string, number>> = { critical: 4, high: 3, medium: 2, low: 1, informational: 0 };

export function createTaskRunner(opts: TaskRunnerOptions): (task: DetectTask) => DetectResult {
  const { detector, mapper, maxRequestBytes } = opts;
  const perRecord = opts.maxPerRecord ?? MAX_DETECTIONS_PER_RECORD;
  const perRequest = opts.maxPerRequest ?? MAX_DETECTIONS_PER_REQUEST;
  const limits = opts.limits ?? DEFAULT_RECORD_LIMITS;
  const keepBody = opts.keepBody ?? true;
  const plan = opts.correlation !== undefined && opts.correlation.referenced.size > 0 ? opts.correlation : undefined;
  /** The engine's own counter (rule evaluations after candidate pruning), when it keeps one. */
  const counters = detector as { readonly ruleEvaluations?: number };

  return (task) => {
    const detections: Detection[] = [];
    const correlationInputs: CorrelationInput[] = [];
    const now = Date.now();
    const evaluationsBefore = counters.ruleEvaluations ?? 0;
    let records = 0;
    let events = 0;
    let evalErrors = 0;
    let dropped = 0;
    const evaluate = ({ event, record }: MappedEvent): void => {
      events++;
      let matches;
      try {
        matches = detector.evaluate(event);
      } catch {
        evalErrors++;
        return;
      }
      if (matches.length === 0) return;
      const room = Math.min(perRecord, perRequest - detections.length - correlationInputs.length);
      if (matches.length > room) {
        dropped += matches.length - Math.max(0, room);
        if (room <= 0) return;
        matches = [...matches].sort((a, b) => (LEVEL_RANK[b.rule.level] ?? 0) - (LEVEL_RANK[a.rule.level] ?? 0)).slice(0, room);
      }
      if (plan === undefined) detections.push(...buildDetections(matches, event, record, now, 'stream', keepBody));
      else splitForCorrelation(plan, matches, event, record, now, 'stream', detections, correlationInputs, keepBody);
    };
    try {
      const rest: LogRecordView[] = [];
      // The request's record count is checked before the first record is decoded; each record's size as it is.
      forEachExportRecord(task, maxRequestBytes, (record) => {
        records++;
        checkRecord(record, limits);
        const mapped = mapper.mapOne(record);
        if (mapped !== null) evaluate(mapped);
        else rest.push(record);
      }, limits);
      for (const e of mapper.mapRest(rest)) evaluate(e);
      // Flushing the mapper's held auditd records at the end of each request keeps every acknowledged
      // record evaluated before the ack (no event waits in a worker across requests); auditd writes an
      // event's records together, so they arrive in one collector batch in practice.
      for (const e of mapper.flush()) evaluate(e);
    } catch (err) {
      // A malformed request is refused whole (the collector drops it as a permanent error); detections
      // of the records decoded before the fault are discarded with it.
      detector.takeRouted?.(); // the request is refused whole: its events do not count as received either
      if (isPipelineError(err)) return { ok: false, code: err.code, message: err.message, retryable: err.retryable };
      return { ok: false, code: ErrorCode.WORKER, message: `worker failed: ${(err as Error).message}`, retryable: false };
    }
    const routed = detector.takeRouted?.();
    return {
      ok: true,
      ...(routed !== undefined ? { routed } : {}),
      rejected: evalErrors,
      errorMessage: [
        evalErrors > 0 ? `${evalErrors} log records could not be evaluated` : '',
        dropped > 0 ? `${dropped} detections over the bounds (${perRecord} per record, ${perRequest} per request; highest levels kept) were not stored` : '',
      ].filter(Boolean).join('; '),
      detections,
      correlationInputs,
      stats: { records, events, ruleEvaluations: (counters.ruleEvaluations ?? 0) - evaluationsBefore, evalErrors, detectionsDropped: dropped },
    };
  };
}

/**
 * One event's matches, sorted for correlation: matches of rules a correlation references become
 * correlation inputs; the rest, and the rules whose own detections are wanted, become detections. A rule
 * that only feeds correlations (`generate: false`, the usual case) costs no stored copy of the event.
 */
export function splitForCorrelation(plan: CorrelationPlan, matches: readonly RuleMatch[], event: SigmaEvent, record: LogRecordView, detectedAtMs: number,
  source: DetectionSource, detections: Detection[], inputs: CorrelationInput[], keepBody = true): void {
  const emitted = matches.filter((m) => !plan.suppressed.has(m.rule.id));
  const built = emitted.length > 0 ? buildDetections(emitted, event, record, detectedAtMs, source, keepBody) : [];
  for (const d of built) detections.push(d);
  let identity: { id: string; timeNs: string; host: string } | undefined = built[0]?.event;
  for (const m of matches) {
    const fields = plan.referenced.get(m.rule.id);
    if (fields === undefined) continue;
    identity ??= recordIdentity(event, record, detectedAtMs);
    inputs.push({ ruleId: m.rule.id, timeNs: identity.timeNs, fingerprint: detectionFingerprint(m.rule.id, identity.id), host: identity.host, fields: pickFields(event, m.matched, fields) });
  }
}

/** The values a correlation groups or aggregates on, as text ('' when the event lacks the field). */
export function pickFields(event: SigmaEvent, matched: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = event.fields[name];
    out[name] = v === undefined || v === null ? (matched[name] ?? '') : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}
