/**
 * A fired correlation → a Detection: a row of the same table as single-event detections, an `eval`
 * line and a Keep alert. Its event is the correlation itself (group, window, value, a sample of
 * the contributing fingerprints), so the events table holds one row per fired window.
 */
import { ruleColumns } from './build-detection.ts';
import type { CorrelationOutput } from './correlation/types.ts';
import type { Detection, DetectionSource } from './detection.ts';

export function correlationDetection(o: CorrelationOutput, detectedAtMs: number, source: DetectionSource): Detection {
  const r = o.rule.info;
  // A group that spans hosts (grouped by source address, say) has no one host to name.
  const host = o.hosts.length === 1 ? o.hosts[0]! : '';
  const summary = {
    correlation: o.rule.type,
    group: o.group,
    window_start: o.windowStartNs,
    window_end: o.windowEndNs,
    value: o.value,
    contributing_count: o.contributingCount,
    contributing: o.contributing,
    hosts: o.hosts,
  };
  return {
    eventTimeNs: o.windowEndNs,
    detectedAtMs,
    ...ruleColumns(r),
    host,
    matched: o.group,
    event: {
      id: o.fingerprint,
      timeNs: o.windowEndNs,
      host,
      sigmaEvent: JSON.stringify(summary),
      body: '',
      logAttributes: {},
      resourceAttributes: {},
      severityText: '',
      severityNumber: 0,
      traceId: '',
      spanId: '',
    },
    fingerprint: o.fingerprint,
    source,
    correlation: {
      type: o.rule.type,
      group: o.group,
      windowStartNs: o.windowStartNs,
      windowEndNs: o.windowEndNs,
      value: o.value,
      contributing: o.contributing,
    },
  };
}
