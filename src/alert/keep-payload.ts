/**
 * Detection → Keep AlertDto. One alert per fingerprint group (by default rule × host), with what
 * an analyst needs to triage without opening the rule: severity, what matched, ATT&CK links,
 * labels to filter on, and a link back to the logs around the event.
 */
import { createHash } from 'node:crypto';
import type { Detection } from '../detect/detection.ts';
import type { SigmaLevel } from '../detect/types.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { DetectionFields } from './detection-fields.ts';
import { describeDetection, logsource, nsText, truncate } from './keep-description.ts';
import { KEEP_MAX_FINGERPRINT, type AlertDto, type KeepSeverity } from './keep-types.ts';

export type { AlertDto } from './keep-types.ts';

export interface AlertPayloadOptions {
  readonly environment?: string;
  /** `{host}`, `{rule_id}`, `{from_ms}`, `{to_ms}` are replaced (URL-encoded); see validateUrlTemplate. */
  readonly urlTemplate?: string;
  /** Keys whose values make up the fingerprint; default rule_id, host. See DetectionFields.get. */
  readonly groupBy?: readonly string[];
}

export const DEFAULT_GROUP_BY: readonly string[] = ['rule_id', 'host'];
export const ALERT_SOURCE = 'otel-sigma';
/** The log link covers this much before and after the event. */
export const URL_WINDOW_BEFORE_MS = 15 * 60_000;
export const URL_WINDOW_AFTER_MS = 5 * 60_000;
const MAX_MESSAGE = 240;
const PLACEHOLDERS = ['host', 'rule_id', 'from_ms', 'to_ms'] as const;

const SEVERITY: Readonly<Record<SigmaLevel, KeepSeverity>> = {
  critical: 'critical',
  high: 'high',
  medium: 'warning',
  low: 'low',
  informational: 'info',
};

export const toKeepSeverity = (level: SigmaLevel): KeepSeverity => SEVERITY[level];

/** The alert's name: the rule's title (its id, or a generic name, when it has none). */
export const alertName = (d: Pick<Detection, 'ruleTitle' | 'ruleId'>): string => d.ruleTitle.trim() || d.ruleId.trim() || 'Sigma detection';

export function toAlertDto(d: Detection, opts: AlertPayloadOptions = {}): AlertDto {
  const fields = new DetectionFields(d);
  // A correlation alerts once per rule and group: later windows of the same group update that alert.
  const fingerprint = alertFingerprint(fields, d.correlation ? ['rule_id', ...Object.keys(d.correlation.group).sort()] : opts.groupBy);
  const eventMs = eventTimeMs(d);
  const user = fields.get('user');
  const image = fields.get('image');
  const ls = logsource(d);

  const labels: Record<string, string> = {
    rule_id: d.ruleId,
    level: d.ruleLevel,
    count: '1',
    detection_source: d.source,
  };
  if (d.ruleTags.length > 0) labels['tags'] = d.ruleTags.join(',');
  if (d.host) labels['host'] = d.host;
  if (user) labels['user'] = user;
  if (image) labels['process_image'] = image;
  if (ls) labels['logsource'] = ls;
  if (d.correlation) {
    const c = d.correlation;
    labels['correlation_type'] = c.type;
    labels['correlation_value'] = String(c.value);
    labels['window_start'] = nsText(c.windowStartNs);
    labels['window_end'] = nsText(c.windowEndNs);
    for (const [k, v] of Object.entries(c.group)) labels[`group.${k}`] = v;
  }

  const url = opts.urlTemplate ? renderUrl(opts.urlTemplate, d, eventMs) : undefined;
  return {
    id: fingerprint,
    name: alertName(d),
    status: 'firing',
    severity: SEVERITY[d.ruleLevel],
    lastReceived: new Date(d.detectedAtMs).toISOString(),
    firingStartTime: new Date(eventMs).toISOString(),
    fingerprint,
    source: [ALERT_SOURCE],
    ...(d.host ? { service: d.host } : {}),
    ...(opts.environment ? { environment: opts.environment } : {}),
    message: alertMessage(d),
    description: describeDetection(d, 1),
    description_format: 'markdown',
    ...(url !== undefined ? { url } : {}),
    labels,
    occurrences: 1,
  };
}

/**
 * The same alert again, now standing for `occurrences` detections, last seen at `lastMs`. Keep
 * groups it with the first by fingerprint; the changed count makes it a new occurrence there
 * rather than a dropped full duplicate.
 */
export function withOccurrences(a: AlertDto, occurrences: number, lastMs: number): AlertDto {
  return {
    ...a,
    lastReceived: new Date(lastMs).toISOString(),
    labels: { ...a.labels, count: String(occurrences) },
    description: a.description.replace(/\*\*Detections\*\* \d+/, `**Detections** ${occurrences}`),
    occurrences,
  };
}

export function alertFingerprint(fields: DetectionFields, groupBy: readonly string[] = DEFAULT_GROUP_BY): string {
  const fp = `sigma:${groupBy.map((k) => fields.get(k)).join(':')}`;
  // Keep cuts at 255, which could merge different groups; a hash keeps them apart.
  return fp.length <= KEEP_MAX_FINGERPRINT ? fp : `sigma:sha256:${createHash('sha256').update(fp).digest('hex')}`;
}

/** Event time in ms (record time → observed time → receive time, as the detection carries it). */
export function eventTimeMs(d: Detection): number {
  if (!/^\d{1,20}$/.test(d.eventTimeNs)) return d.detectedAtMs;
  const ms = Number(BigInt(d.eventTimeNs) / 1_000_000n);
  return ms > 0 && ms < 8.64e15 ? ms : d.detectedAtMs;
}

/** Short: the command line if the rule looked at one, else the matched fields. */
export function alertMessage(d: Detection): string {
  const entries = Object.entries(d.matched);
  entries.sort(([a], [b]) => rank(a) - rank(b));
  const what = entries.map(([k, v]) => `${k}=${v.replace(/\s+/g, ' ')}`).join('; ');
  return truncate(`${d.ruleTitle || d.ruleId} on ${d.host || 'unknown host'}${what ? `: ${what}` : ''}`, MAX_MESSAGE);
}

const rank = (field: string): number => (field === 'CommandLine' ? 0 : field === 'Image' ? 1 : 2);

function renderUrl(template: string, d: Detection, eventMs: number): string {
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    host: d.host,
    rule_id: d.ruleId,
    from_ms: String(eventMs - URL_WINDOW_BEFORE_MS),
    to_ms: String(eventMs + URL_WINDOW_AFTER_MS),
  };
  return template.replace(/\{(host|rule_id|from_ms|to_ms)\}/g, (_, k: keyof typeof values) => encodeURIComponent(values[k]));
}

/**
 * Checked once at startup: Keep rejects (pydantic AnyHttpUrl) or rewrites a url that is not
 * absolute http(s), and an unknown placeholder is almost certainly a typo.
 */
export function validateUrlTemplate(template: string): void {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '').filter((k) => !(PLACEHOLDERS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new PipelineError(ErrorCode.CONFIG, `"alert.url_template" has unknown placeholder(s) ${unknown.map((k) => `{${k}}`).join(', ')}; expected {host}, {rule_id}, {from_ms}, {to_ms}`, false);
  }
  const sample = template.replace(/\{(host|rule_id|from_ms|to_ms)\}/g, 'x');
  let ok: boolean;
  try {
    const u = new URL(sample);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) throw new PipelineError(ErrorCode.CONFIG, `"alert.url_template" is ${JSON.stringify(template)}; expected an absolute http(s) URL`, false);
}
