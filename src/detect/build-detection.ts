/** RuleMatch + the record it matched → the Detection row. Runs only on a match, so it may allocate freely. */
import { createHash } from 'node:crypto';
import type { AnyValue, LogRecordView } from '../decode/types.ts';
import type { SigmaEvent } from '../map/types.ts';
import type { Detection, DetectionSource } from './detection.ts';
import type { RuleMatch } from './types.ts';

export function buildDetection(m: RuleMatch, event: SigmaEvent, rec: LogRecordView, detectedAtMs: number, source: DetectionSource): Detection {
  const eventTimeNs = rec.timeUnixNano !== '0' ? rec.timeUnixNano : rec.observedTimeUnixNano !== '0' ? rec.observedTimeUnixNano : `${detectedAtMs}000000`;
  const body = rec.body === null ? '' : typeof rec.body === 'string' ? rec.body : JSON.stringify(rec.body);
  const r = m.rule;
  return {
    eventTimeNs,
    detectedAtMs,
    ruleId: r.id,
    ruleTitle: r.title,
    ruleLevel: r.level,
    ruleStatus: r.status,
    ruleTags: r.tags,
    ruleDescription: r.description,
    ruleReferences: r.references,
    ruleFalsePositives: r.falsepositives,
    ruleAuthor: r.author,
    product: r.logsource.product,
    category: r.logsource.category,
    service: r.logsource.service,
    host: event.meta.host,
    matched: m.matched,
    sigmaEvent: JSON.stringify(event.fields),
    body,
    logAttributes: stringMap(rec.attributes),
    resourceAttributes: stringMap(rec.resource.attributes),
    severityText: rec.severityText,
    severityNumber: rec.severityNumber,
    traceId: rec.traceId,
    spanId: rec.spanId,
    // Same rule + same record ⇒ same fingerprint, whichever worker or replay produced it.
    fingerprint: createHash('sha256').update(`${r.id}\0${eventTimeNs}\0${event.meta.host}\0${body}\0${JSON.stringify(rec.attributes)}`).digest('hex').slice(0, 32),
    source,
  };
}

function stringMap(attrs: Readonly<Record<string, AnyValue>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in attrs) {
    const v = attrs[k];
    out[k] = typeof v === 'string' ? v : JSON.stringify(v ?? null);
  }
  return out;
}
