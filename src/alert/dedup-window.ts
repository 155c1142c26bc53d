/**
 * Dedup window: detections with the same fingerprint within `windowMs` of the first fold into one
 * alert group. The first detection is sent at once; repeats only bump the group's count and last
 * time, and the sender re-sends the group (same id and fingerprint, new count) on its next sweep,
 * so Keep shows one alert whose count grows instead of one alert per matching record.
 */
import { withOccurrences } from './keep-payload.ts';
import type { AlertDto } from './keep-types.ts';

export interface AlertGroup {
  readonly fingerprint: string;
  /** The alert built from the first detection; updates are derived from it. */
  readonly first: AlertDto;
  /** Wall-clock ms when the window opened. */
  readonly openedMs: number;
  count: number;
  /** detectedAtMs of the newest detection in the group. */
  lastMs: number;
  /** `count` when the group was last handed to delivery or dropped from a full buffer (0 = never). */
  sentCount: number;
  /** In the send buffer now: a repeat needs no extra send, the buffered entry carries the count. */
  queued: boolean;
}

export function newGroup(first: AlertDto, detectedAtMs: number, nowMs: number): AlertGroup {
  return { fingerprint: first.fingerprint, first, openedMs: nowMs, count: 1, lastMs: detectedAtMs, sentCount: 0, queued: false };
}

/** The alert to send for a group as it stands now. */
export function groupAlert(g: AlertGroup): AlertDto {
  return g.count === 1 ? g.first : withOccurrences(g.first, g.count, g.lastMs);
}

export class DedupWindow {
  readonly #windowMs: number;
  readonly #maxTracked: number;
  // Insertion order = opening order, so the first entry is the oldest window.
  readonly #groups = new Map<string, AlertGroup>();

  constructor(windowMs: number, maxTracked: number) {
    this.#windowMs = windowMs;
    this.#maxTracked = Math.max(1, maxTracked);
  }

  get size(): number {
    return this.#groups.size;
  }

  /** Folds a repeat into its open group and returns it; undefined when a new alert is due. */
  fold(fingerprint: string, detectedAtMs: number, nowMs: number): AlertGroup | undefined {
    const g = this.#groups.get(fingerprint);
    if (g === undefined || nowMs - g.openedMs >= this.#windowMs) return undefined;
    g.count++;
    if (detectedAtMs > g.lastMs) g.lastMs = detectedAtMs;
    return g;
  }

  /** Tracks a new group, replacing an expired one with the same fingerprint. */
  track(g: AlertGroup): void {
    this.#groups.delete(g.fingerprint);
    // Bounded: under a flood of distinct fingerprints the oldest windows are forgotten first;
    // a forgotten group's later repeats simply open a new alert.
    while (this.#groups.size >= this.#maxTracked) {
      const oldest = this.#groups.keys().next();
      if (oldest.done === true) break;
      this.#groups.delete(oldest.value);
    }
    this.#groups.set(g.fingerprint, g);
  }

  /**
   * Groups whose count grew since they were last handed over (and are not already queued);
   * forgets groups whose window has closed and that have nothing left to send.
   */
  sweep(nowMs: number): AlertGroup[] {
    const due: AlertGroup[] = [];
    for (const [fp, g] of this.#groups) {
      if (!g.queued && g.count > g.sentCount) due.push(g);
      else if (!g.queued && nowMs - g.openedMs >= this.#windowMs) this.#groups.delete(fp);
    }
    return due;
  }
}
