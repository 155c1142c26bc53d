/**
 * The per-minute ceiling on new alerts and the digest of what it held back. Alerts past the
 * ceiling (and alerts the queue bound pushed out) are counted per rule here and leave as one
 * digest alert per window, so an analyst sees "N more alerts of rule X were suppressed" instead
 * of silence. Updates of alerts already sent (dedup counts, resolves) do not count: they change
 * an alert Keep already shows rather than adding one.
 */
import { code } from './keep-description.ts';
import { KEEP_SEVERITIES, type AlertDto, type KeepSeverity } from './keep-types.ts';
import type { Detection } from '../detect/detection.ts';
import { ALERT_SOURCE, alertName, toKeepSeverity } from './keep-payload.ts';

/** One rule's line in a digest. Serialised as the Redis hash field, so it must round-trip. */
export interface DigestKey {
  readonly ruleId: string;
  readonly title: string;
  readonly severity: KeepSeverity;
}

/** Distinct rules one digest lists; the rest are summed into one line. */
export const MAX_DIGEST_RULES = 500;
const OTHER: DigestKey = { ruleId: '(other rules)', title: 'Other rules', severity: 'low' };

export const digestField = (k: DigestKey): string => `${k.severity}\t${k.ruleId}\t${k.title}`;

export function parseDigestField(f: string): DigestKey {
  const [severity = 'info', ruleId = '', ...title] = f.split('\t');
  const sev = (KEEP_SEVERITIES as readonly string[]).includes(severity) ? (severity as KeepSeverity) : 'info';
  return { ruleId, title: title.join('\t'), severity: sev };
}

export const digestKeyOf = (a: AlertDto): DigestKey => ({ ruleId: a.labels['rule_id'] ?? '', title: a.name, severity: a.severity });
/** The same key from the detection itself, for an alert held back before it was built. */
export const digestKeyOfDetection = (d: Detection): DigestKey => ({ ruleId: d.ruleId, title: alertName(d), severity: toKeepSeverity(d.ruleLevel) });

/** Local counts of one window: admitted alerts and held-back alerts per rule. */
export class ThrottleWindow {
  readonly windowMs: number;
  readonly #max: number;
  #start = -1;
  #admitted = 0;
  #held = new Map<string, number>();

  constructor(maxPerWindow: number, windowMs: number) {
    this.#max = maxPerWindow;
    this.windowMs = windowMs;
  }

  /** Start of the window `nowMs` falls in (windows are aligned, so replicas agree on them). */
  startOf(nowMs: number): number {
    return nowMs - (nowMs % this.windowMs);
  }

  /**
   * Rolls to the window of `nowMs`; returns the held-back counts of the window that just ended
   * (empty when nothing was held back), to be sent as that window's digest.
   */
  roll(nowMs: number): { start: number; held: Map<string, number> } | undefined {
    const start = this.startOf(nowMs);
    if (start === this.#start) return undefined;
    const ended = { start: this.#start, held: this.#held };
    this.#start = start;
    this.#admitted = 0;
    this.#held = new Map();
    return ended.start < 0 || ended.held.size === 0 ? undefined : ended;
  }

  /** Counts one new alert against this replica's ceiling. */
  admitLocal(): boolean {
    return this.admitCount(++this.#admitted);
  }

  /** `count`: this alert's position in the window, from shared state. 0 = no ceiling. */
  admitCount(count: number): boolean {
    return this.#max <= 0 || count <= this.#max;
  }

  hold(key: DigestKey, n = 1): void {
    let field = digestField(key);
    if (!this.#held.has(field) && this.#held.size >= MAX_DIGEST_RULES) field = digestField(OTHER);
    this.#held.set(field, (this.#held.get(field) ?? 0) + n);
  }

  /** Held-back counts of the current window (drained: shared state takes them over). */
  takeHeld(): Map<string, number> {
    const h = this.#held;
    this.#held = new Map();
    return h;
  }

  get currentStart(): number {
    return this.#start;
  }
}

/** The digest alert for one window: one per window, fingerprint derived from the window start. */
export function digestAlert(windowStartMs: number, windowMs: number, held: ReadonlyMap<string, number>, environment?: string, suffix?: string): AlertDto {
  const rows = [...held].map(([f, n]) => ({ ...parseDigestField(f), n }));
  rows.sort((a, b) => b.n - a.n || a.ruleId.localeCompare(b.ruleId));
  const total = rows.reduce((s, r) => s + r.n, 0);
  const severity = KEEP_SEVERITIES.find((s) => rows.some((r) => r.severity === s)) ?? 'info';
  const from = new Date(windowStartMs).toISOString();
  const to = new Date(windowStartMs + windowMs).toISOString();
  const fingerprint = `${ALERT_SOURCE}:digest:${from}${suffix ? `:${suffix}` : ''}`;
  const lines = [
    `**${total}** alert(s) from **${rows.length}** rule(s) were held back between ${from} and ${to}: more than the configured ceiling of new alerts per window, or pushed out of a full delivery queue.`,
    '',
    '| Rule | Rule id | Severity | Held back |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${cell(code(r.title))} | ${cell(code(r.ruleId))} | ${r.severity} | ${r.n} |`),
    '',
    'Every detection is still stored in ClickHouse (`otel_sigma.detections`); query it for the details.',
  ];
  return {
    id: fingerprint,
    name: `Sigma alerts held back: ${total} from ${rows.length} rule(s)`,
    status: 'firing',
    severity,
    lastReceived: to,
    firingStartTime: from,
    fingerprint,
    source: [ALERT_SOURCE],
    ...(environment ? { environment } : {}),
    message: `${total} Sigma alert(s) held back by the alert ceiling; top rule: ${rows[0]?.title ?? 'none'} (${rows[0]?.n ?? 0})`,
    description: lines.join('\n'),
    description_format: 'markdown',
    labels: { kind: 'digest', held_back: String(total), rules: String(rows.length), window_start: from },
    occurrences: total,
  };
}

const cell = (s: string): string => s.replaceAll('|', '\\|');
